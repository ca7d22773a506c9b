"""Indonesian chat normalisation: slang, abbreviations, regional words, elongated letters.

Standard library only: the Rasa tokenizer in ``nlu.components`` uses it inside Rasa's environment
and the tests import it from the application's. Offsets are never changed here — callers keep each
token's position in the original text and only replace what the featurizers see.
"""

from __future__ import annotations

import re
from typing import Final

# Informal and abbreviated forms -> the form most of the training data spells out. Only forms that
# are unambiguous in a PKH conversation belong here ("mi" is a madrasah *and* noodles: left out).
SLANG: Final[dict[str, str]] = {
    # negation and aspect
    "gak": "tidak",
    "ga": "tidak",
    "gk": "tidak",
    "nggak": "tidak",
    "ngga": "tidak",
    "enggak": "tidak",
    "engga": "tidak",
    "ndak": "tidak",
    "idak": "tidak",
    "tdk": "tidak",
    "kagak": "tidak",
    "ora": "tidak",
    "tak": "tidak",
    "ndk": "tidak",
    "g": "tidak",
    "udah": "sudah",
    "udh": "sudah",
    "dah": "sudah",
    "sdh": "sudah",
    "udeh": "sudah",
    "wis": "sudah",
    "uda": "sudah",
    "sudh": "sudah",
    "blm": "belum",
    "belom": "belum",
    "blom": "belum",
    "durung": "belum",
    "blum": "belum",
    # question words
    "brp": "berapa",
    "brapa": "berapa",
    "berapakah": "berapa",
    "pira": "berapa",
    "gmn": "bagaimana",
    "gimana": "bagaimana",
    "gmna": "bagaimana",
    "bgmn": "bagaimana",
    "gimane": "bagaimana",
    "piye": "bagaimana",
    "kumaha": "bagaimana",
    "pripun": "bagaimana",
    "kpn": "kapan",
    "kapn": "kapan",
    "kpan": "kapan",
    "kapankah": "kapan",
    "knp": "kenapa",
    "napa": "kenapa",
    "ngapa": "kenapa",
    "kenopo": "kenapa",
    "mengapa": "kenapa",
    "dmn": "dimana",
    "dimn": "dimana",
    "opo": "apa",
    "apaan": "apa",
    # people and pronouns
    "sy": "saya",
    "sya": "saya",
    "aku": "saya",
    "aye": "saya",
    "gue": "saya",
    "gw": "saya",
    "ane": "saya",
    "q": "saya",
    "kula": "saya",
    "bu": "ibu",
    "buk": "ibu",
    "bun": "ibu",
    "pak": "bapak",
    "bpk": "bapak",
    "min": "admin",
    "mimin": "admin",
    "kak": "kakak",
    # common words
    "yg": "yang",
    "dgn": "dengan",
    "dg": "dengan",
    "utk": "untuk",
    "untk": "untuk",
    "krn": "karena",
    "karna": "karena",
    "soalnya": "karena",
    "jd": "jadi",
    "lg": "lagi",
    "aja": "saja",
    "aj": "saja",
    "kalo": "kalau",
    "klo": "kalau",
    "kl": "kalau",
    "tgl": "tanggal",
    "bln": "bulan",
    "thn": "tahun",
    "th": "tahun",
    "hr": "hari",
    "skrg": "sekarang",
    "skrang": "sekarang",
    "sekarng": "sekarang",
    "dpt": "dapat",
    "dapet": "dapat",
    "dpet": "dapat",
    "tau": "tahu",
    "tw": "tahu",
    "bs": "bisa",
    "bsa": "bisa",
    "mw": "mau",
    "mo": "mau",
    "nak": "mau",
    "pengen": "ingin",
    "pgn": "ingin",
    "ado": "ada",
    "tp": "tapi",
    "trs": "terus",
    "trus": "terus",
    "sm": "sama",
    "ama": "sama",
    "makasi": "makasih",
    "mksh": "makasih",
    "makasiih": "makasih",
    "trims": "makasih",
    "thx": "makasih",
    "tq": "makasih",
    "trimakasih": "makasih",
    "terimakasih": "makasih",
    "nian": "sekali",
    "bgt": "sekali",
    "banget": "sekali",
    "budak": "anak",
    "bocah": "anak",
    # domain slang
    "duit": "uang",
    "doku": "uang",
    "dana": "uang",
    "ketelen": "tertelan",
    "ketelan": "tertelan",
    "ditelen": "tertelan",
    "ilang": "hilang",
    "ngilang": "hilang",
    "apras": "balita",
    "pendampingnya": "pendamping",
    "pndamping": "pendamping",
    "pendmping": "pendamping",
    "cairnya": "cair",
    "cair2": "cair",
    "pencairan": "cair",
}

# Regional languages mixed into Indonesian -> the standard word the training data spells out.
# Only words that are unambiguous in a PKH conversation; left out on purpose: "oleh" (Javanese
# "get", Indonesian "by"), "lah"/"pun"/"la" (particles in Indonesian, "sudah" in Palembang),
# "ana"/"lai"/"ade" (names, "adik"), "bila" ("if"), "kaya" ("rich"), "kuda", "tiang", "urang".
REGIONAL: Final[dict[str, str]] = {
    # Javanese ngoko
    "piye": "bagaimana", "kepriye": "bagaimana", "kepriben": "bagaimana", "priye": "bagaimana",
    "opo": "apa", "apane": "apa", "piro": "berapa", "pira": "berapa", "piroan": "berapa",
    "sopo": "siapa", "ngendi": "dimana", "endi": "mana", "kenopo": "kenapa", "ngopo": "kenapa",
    "opoo": "kenapa", "durung": "belum", "urung": "belum", "wis": "sudah", "wes": "sudah",
    "uwis": "sudah", "uwes": "sudah", "ora": "tidak", "ra": "tidak", "gak": "tidak",
    "ono": "ada", "onok": "ada", "enek": "ada", "isih": "masih", "isik": "masih", "aku": "saya",
    "awakdewe": "kami", "kowe": "kamu", "sampeyan": "kamu", "arep": "mau", "pengin": "ingin",
    "kepingin": "ingin", "pingin": "ingin", "entuk": "dapat", "olehe": "dapat",
    "iso": "bisa", "isa": "bisa", "ngerti": "tahu", "takon": "tanya", "takok": "tanya",
    "njaluk": "minta", "tulung": "tolong", "tulungi": "tolong", "iki": "ini", "kuwi": "itu",
    "iku": "itu", "sing": "yang", "karo": "sama", "neng": "di", "ning": "di", "nang": "di",
    "soko": "dari", "kabeh": "semua", "akeh": "banyak", "gawe": "buat", "kanggo": "untuk",
    "wong": "orang", "omah": "rumah", "saiki": "sekarang", "mengko": "nanti", "engko": "nanti",
    "sesuk": "besok", "mbesuk": "besok", "wingi": "kemarin", "sasi": "bulan", "wulan": "bulan",
    "taun": "tahun", "dino": "hari", "kudu": "harus", "duwit": "uang", "dhuwit": "uang",
    "mbayar": "bayar", "ndaftar": "daftar", "daftarke": "daftar", "njupuk": "ambil",
    "jupuk": "ambil", "tonggo": "tetangga", "tonggoku": "tetangga", "mlebu": "masuk",
    "metu": "keluar", "kertu": "kartu", "lair": "lahir", "nglairake": "melahirkan",
    "meteng": "hamil", "mudun": "turun", "munggah": "naik",
    "sekolahe": "sekolah", "bocahe": "anak", "anakku": "anak", "duitku": "uang",
    "pkhku": "pkh", "pkhe": "pkh", "dicekel": "dipegang", "digawa": "dibawa",
    "suwun": "makasih", "nuwun": "makasih", "kesuwun": "makasih", "ngene": "begini",
    # Javanese krama
    "pripun": "bagaimana", "kados": "seperti", "menapa": "apa", "punapa": "apa", "nopo": "apa",
    "pinten": "berapa", "sinten": "siapa", "pundi": "mana", "dereng": "belum",
    "sampun": "sudah", "mboten": "tidak", "boten": "tidak", "mpun": "sudah", "wonten": "ada",
    "taksih": "masih", "tasih": "masih", "kula": "saya", "kulo": "saya", "panjenengan": "kamu",
    "badhe": "mau", "bade": "mau", "ajeng": "mau", "angsal": "dapat", "kenging": "dapat",
    "nampi": "terima", "saged": "bisa", "ngertos": "tahu", "tangklet": "tanya",
    "nyuwun": "minta", "pirsa": "tahu", "menika": "ini", "punika": "ini", "niki": "ini",
    "niku": "itu", "ingkang": "yang", "kaliyan": "dengan", "saking": "dari", "teng": "di",
    "dhateng": "ke", "sedaya": "semua", "kathah": "banyak", "damel": "buat", "kangge": "untuk",
    "kagem": "untuk", "tiyang": "orang", "griya": "rumah", "sakniki": "sekarang",
    "samenika": "sekarang", "mangke": "nanti", "mbenjang": "besok", "sasih": "bulan",
    "dinten": "hari", "kedah": "harus", "arto": "uang", "artos": "uang", "yatra": "uang",
    "mundhut": "ambil", "tanggi": "tetangga", "mlebet": "masuk", "medal": "keluar",
    "ical": "hilang", "ngandeg": "hamil", "seda": "meninggal", "tilar": "meninggal",
    "lare": "anak", "putra": "anak", "putri": "anak", "nggih": "iya", "inggih": "iya",
    "injih": "iya", "sanget": "sekali",
    # Sundanese
    "kumaha": "bagaimana", "sabaraha": "berapa", "naon": "apa", "iraha": "kapan",
    "saha": "siapa", "kamana": "kemana", "naha": "kenapa",
    "kunaon": "kenapa", "teu": "tidak", "henteu": "tidak", "hente": "tidak", "acan": "belum",
    "tacan": "belum", "can": "belum", "tos": "sudah", "atos": "sudah", "parantos": "sudah",
    "geus": "sudah", "abdi": "saya", "anjeun": "kamu", "aya": "ada", "keneh": "masih",
    "hoyong": "ingin", "hayang": "ingin", "tiasa": "bisa", "meunang": "dapat",
    "daptar": "daftar", "ngadaptar": "daftar", "ngadaftar": "daftar", "leungit": "hilang",
    "ieu": "ini", "eta": "itu", "éta": "itu", "sareng": "dengan", "jeung": "dan",
    "tina": "dari", "sadayana": "semua", "seueur": "banyak", "nyieun": "buat",
    "jalma": "orang", "imah": "rumah", "bumi": "rumah", "ayeuna": "sekarang", "engke": "nanti",
    "isukan": "besok", "kamari": "kemarin", "payun": "depan", "naros": "tanya",
    "naroskeun": "tanya", "nyuhunkeun": "minta", "menta": "minta", "nyandak": "ambil",
    "tatangga": "tetangga", "lebet": "masuk", "kaluar": "keluar", "reuneuh": "hamil",
    "maot": "meninggal", "pupus": "meninggal", "ngalahirkeun": "melahirkan",
    "murangkalih": "anak", "sakola": "sekolah", "nuhun": "makasih", "sanes": "bukan",
    "upami": "kalau", "mun": "kalau", "dicepeng": "dipegang", "dicandak": "dibawa",
    "katelen": "tertelan", "mayar": "bayar", "pisan": "sekali", "wae": "saja",
    # Malay of Sumatra (Palembang, Jambi, Bengkulu, Riau, Minangkabau, Medan)
    "apo": "apa", "berapo": "berapa", "brapo": "berapa", "bara": "berapa", "siapo": "siapa",
    "sapo": "siapa", "mano": "mana", "dimano": "dimana", "kemano": "kemana", "kama": "kemana",
    "kenapo": "kenapa", "ngapo": "kenapa", "mangapo": "kenapa", "manga": "kenapa",
    "bilo": "kapan", "baa": "bagaimana", "camano": "bagaimana", "cemano": "bagaimana",
    "cemana": "bagaimana", "bagaimano": "bagaimana", "indak": "tidak", "dak": "tidak",
    "nda": "tidak", "alun": "belum", "balun": "belum", "ambo": "saya", "sayo": "saya",
    "awak": "saya", "kito": "kita", "dapek": "dapat", "pitih": "uang", "piti": "uang",
    "masuak": "masuk", "kalua": "keluar", "iko": "ini", "tu": "itu", "samo": "sama",
    "galo": "semua", "kagek": "nanti", "beko": "nanti", "kini": "sekarang", "caro": "cara",
    "caronyo": "cara", "namo": "nama", "tanyo": "tanya", "terimo": "terima",
    "bayia": "bayar", "untuak": "untuk", "pai": "pergi", "pigi": "pergi", "kelen": "kalian",
    "tatelan": "tertelan", "penerimo": "penerima", "lamo": "lama",
    # Betawi
    "gimane": "bagaimana", "pegimane": "bagaimana", "kenape": "kenapa", "ngape": "kenapa",
    "berape": "berapa", "siape": "siapa", "mane": "mana", "dimane": "dimana",
    "kemane": "kemana", "kaga": "tidak", "kagak": "tidak", "belon": "belum", "udeh": "sudah",
    "aye": "saya", "gua": "saya", "elu": "kamu", "lu": "kamu", "ame": "sama", "aje": "saja",
    "ape": "apa", "nyang": "yang", "kate": "kata", "caranye": "caranya",
    # Banjar, Madurese, Balinese, Acehnese and eastern Indonesian
    "kada": "tidak", "kadada": "tidak", "ulun": "saya", "pian": "kamu", "handak": "mau",
    "kawa": "bisa", "balum": "belum", "berempa": "berapa", "enjek": "tidak", "kaule": "saya",
    "sengko": "saya", "pesse": "uang", "kenken": "bagaimana", "nyen": "siapa", "peu": "apa",
    "tabe": "permisi",
    # Eastern Indonesian Malay (Manado, Ambon, Kupang, Papua), Madurese, Acehnese, Sasak
    "sonde": "tidak", "nyanda": "tidak", "trada": "tidak", "tra": "tidak", "tida": "tidak",
    "su": "sudah", "so": "sudah", "balom": "belum", "beta": "saya", "sa": "saya",
    "ngana": "kamu", "kiapa": "kenapa", "bagimana": "bagaimana", "doi": "uang", "pung": "punya",
    "pu": "punya", "pe": "punya", "katong": "kami", "torang": "kami", "kitorang": "kami",
    "botong": "kami", "dorang": "mereka", "dapa": "dapat", "deng": "dengan", "bile": "kapan",
    "dhimma": "mana", "bede": "ada", "olle": "dapat", "kaula": "saya", "terro": "ingin",
    "masok": "masuk", "elang": "hilang", "pakon": "kenapa", "hana": "tidak", "lon": "saya",
    "gadoh": "hilang", "pire": "berapa", "ndeq": "tidak", "kayapa": "bagaimana",
    # More of the same languages: Sundanese courtesy, Banyumasan/Cirebon and krama question
    # words, Madurese, Balinese, Acehnese, Bugis and Sasak verbs of asking, having and receiving
    "haturnuhun": "makasih", "punten": "permisi", "mangga": "silakan", "wilujeng": "selamat",
    "enjing": "pagi", "kepripun": "bagaimana", "kepriwe": "bagaimana", "priwe": "bagaimana",
    "piben": "bagaimana", "pimen": "bagaimana", "cakmano": "bagaimana", "ngeten": "begini",
    "sedanten": "semua", "mriki": "sini", "ngriki": "sini", "ngantos": "sampai",
    "pabila": "kapan", "bilakah": "kapan", "pajan": "kapan", "alum": "belum",
    "endak": "tidak", "ndaq": "tidak", "konden": "belum", "sube": "sudah", "uwah": "sudah",
    "barampa": "berapa", "berrempa": "berapa", "dimma": "mana", "jeuet": "bisa",
    "magai": "kenapa", "engka": "ada", "kiro": "kira", "njikuk": "ambil", "jikuk": "ambil",
    "nampa": "terima", "nrima": "terima", "narima": "terima", "nompo": "terima", "tampi": "terima",
    "isinipun": "isinya", "kemawon": "saja", "mawon": "saja", "tuker": "tukar",
    "dituker": "ditukar", "nio": "mau", "bacakap": "bicara", "bapandir": "bicara",
    # Thanks in Madurese, Balinese, Batak, Sasak, Acehnese, Toraja and Nias
    "sakalangkong": "makasih", "suksma": "makasih",
    "mauliate": "makasih", "tampiasih": "makasih", "teurimong": "terima",
    "geunaseh": "kasih", "saohagolo": "makasih",
}  # fmt: skip

_ELONGATION = re.compile(r"([^\W\d_])\1{2,}")
_REDUPLICATION_DIGIT = re.compile(r"^([^\W\d_]+)2$")
# Words that are followed by a number ("tahap2" is stage 2, not "tahap-tahap").
NUMBERED_WORDS: Final[frozenset[str]] = frozenset(
    {
        "tahap",
        "ke",
        "modul",
        "sesi",
        "kelas",
        "tanggal",
        "tgl",
        "bulan",
        "bln",
        "jam",
        "pukul",
        "gelombang",
        "no",
        "nomor",
        "rt",
        "rw",
        "tahun",
        "thn",
        "sd",
        "smp",
        "sma",
    }
)


def _is_reduplication(word: str) -> bool:
    match = _REDUPLICATION_DIGIT.match(word)
    return bool(match) and match.group(1) not in NUMBERED_WORDS  # type: ignore[union-attr]


def normalise_token(token: str, *, regional: bool = True) -> str:
    """The canonical spelling of one token (lower case, elongation collapsed, slang and, unless
    `regional` is False, regional words mapped to standard Indonesian)."""
    word = token.lower()
    collapsed = _ELONGATION.sub(r"\1", word)
    for form in (collapsed, word):
        if form in SLANG:
            return SLANG[form]
        if regional and form in REGIONAL:
            return REGIONAL[form]
    # "kira2" and "cepat2" are written reduplication: keep the base word.
    if _is_reduplication(collapsed):
        return collapsed[:-1]
    return collapsed


_LETTER_DIGIT_BOUNDARY = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")


def split_letters_and_digits(token: str) -> list[tuple[int, str]]:
    """Split "tahap3" into [(0, "tahap"), (5, "3")]: offsets relative to the token's start.

    Written reduplication ("kira2") is not split: the trailing 2 is part of the word.
    """
    if _is_reduplication(token.lower()):
        return [(0, token)]
    parts: list[tuple[int, str]] = []
    start = 0
    for match in _LETTER_DIGIT_BOUNDARY.finditer(token):
        parts.append((start, token[start : match.start()]))
        start = match.start()
    parts.append((start, token[start:]))
    return [(offset, text) for offset, text in parts if text]
