// The inbox's label form: mark an entity by clicking words of the sample, never by typing markup.
// Each mark becomes a hidden field "start:end:entity=value" (offsets into the sample, which the
// form also sends); the server checks it and writes Rasa's annotation into the training data.
(function () {
  "use strict";
  const form = document.getElementById("label-form");
  if (!form) return;
  const words = Array.from(form.querySelectorAll("#sample .word"));
  const tools = document.getElementById("mark-tools");
  const choice = document.getElementById("entity");
  const list = document.getElementById("marks");
  const maxMarks = Number(form.dataset.maxMarks || "20");
  if (!words.length || !tools || !choice || !list) return;
  tools.hidden = false;

  let selected = []; // indexes of the chosen words, always a run of neighbours
  const marks = []; // {first, last, input, item}

  function markOf(index) {
    return marks.find((mark) => mark.first <= index && index <= mark.last);
  }

  function paint() {
    words.forEach((word, index) => {
      const isSelected = selected.includes(index);
      word.classList.toggle("selected", isSelected);
      word.classList.toggle("marked", Boolean(markOf(index)));
      word.setAttribute("aria-pressed", String(isSelected));
    });
  }

  function pick(index) {
    if (markOf(index)) return;
    if (selected.includes(index)) {
      // Unpicking an end word shortens the run; a middle one starts again from it.
      const first = selected[0];
      const last = selected[selected.length - 1];
      selected = index === first || index === last ? selected.filter((i) => i !== index) : [index];
    } else if (selected.length && (index === selected[0] - 1 || index === selected[selected.length - 1] + 1)) {
      selected = [...selected, index].sort((a, b) => a - b);
    } else {
      selected = [index];
    }
    paint();
  }

  function addMark() {
    if (!selected.length || marks.length >= maxMarks) return;
    const first = selected[0];
    const last = selected[selected.length - 1];
    const start = words[first].dataset.start;
    const end = words[last].dataset.end;
    const option = choice.options[choice.selectedIndex];
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = "mark";
    input.value = `${start}:${end}:${option.value}`;
    form.appendChild(input);
    const item = document.createElement("li");
    const text = words.slice(first, last + 1).map((word) => word.textContent).join(" ");
    item.textContent = `«${text}» → ${option.textContent} `;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "link";
    remove.textContent = list.dataset.remove || "×";
    const mark = { first, last, input, item };
    remove.addEventListener("click", () => {
      input.remove();
      item.remove();
      marks.splice(marks.indexOf(mark), 1);
      paint();
    });
    item.appendChild(remove);
    list.appendChild(item);
    marks.push(mark);
    selected = [];
    paint();
  }

  words.forEach((word, index) => {
    word.tabIndex = 0;
    word.setAttribute("role", "button");
    word.addEventListener("click", () => pick(index));
    word.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        pick(index);
      }
    });
  });
  document.getElementById("add-mark").addEventListener("click", addMark);
  paint();
})();
