"""`make bench-scale` at a small size, so that it keeps working: builds, measures, prints."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from devtools.bench_scale import Shape, members_of, nik, run_benchmark
from programme.nik import nik_date_part_is_plausible


@pytest.fixture
def bench_url(postgres_url: str) -> Iterator[str]:
    name = f"pkh_test_bench_{secrets.token_hex(4)}"
    yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    server = make_url(postgres_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def test_the_generated_niks_are_unique_and_plausible() -> None:
    niks = [member.nik for family in range(1, 3000) for member in members_of(family)]
    assert len(set(niks)) == len(niks)
    assert all(len(n) == 16 and nik_date_part_is_plausible(n) for n in niks)
    assert nik(12_000_000, 5, woman=True) != nik(12_000_000, 4, woman=True)


def test_the_shape_of_a_province() -> None:
    shape = Shape(1_000_000)
    assert (shape.kabupaten, shape.kecamatan, shape.desa) == (20, 303, 8000)
    assert (shape.pendamping, shape.kelompok, shape.waiting) == (4000, 40_000, 50_000)


def test_the_benchmark_builds_a_small_province_and_measures_every_row(
    bench_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_benchmark(bench_url, families=2_000, runs=1)

    operations = [m.operation for m in result.measurements]
    assert len(operations) == 7, result.table()
    assert not [m for m in result.measurements if "FAILED" in m.measured], result.table()
    assert result.measurements[-1].ok, result.table()  # chat_id is indexed
    table = result.table()
    assert "roster import" in table and "/stats" in table and "/inbox" in table
    assert "pkh stage open" in table and "outbox claim" in table and "mark_unreachable" in table
    assert "built in" in capsys.readouterr().out
