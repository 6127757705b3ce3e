// The admin without JavaScript works as it is; this makes the preview live, lets a file be dropped on the upload form and narrows the source picker as one types.
// A preview button posts the editor's form into a window named after the
// language. Once that window is open, typing in the form posts it there
// again (after a pause of 0.8 s), so the preview follows the text.
"use strict";
document.querySelectorAll("form.editor").forEach((form) => {
  const opened = new Set();
  form.querySelectorAll("button[data-preview]").forEach((button) => {
    button.addEventListener("click", () => opened.add(button));
  });
  let timer = null;
  form.addEventListener("input", () => {
    if (opened.size === 0) return;
    clearTimeout(timer);
    timer = setTimeout(() => opened.forEach((button) => form.requestSubmit(button)), 800);
  });
});

// Uploads: a file dropped anywhere on the upload form goes into its file
// field (the field itself works without this, as does a click on it).
document.querySelectorAll("form.upload").forEach((form) => {
  const input = form.querySelector("input[type=file]");
  if (!input) return;
  const zone = form.querySelector(".drop-zone") || form;
  const over = (on) => zone.classList.toggle("dragging", on);
  form.addEventListener("dragover", (event) => {
    event.preventDefault();
    over(true);
  });
  form.addEventListener("dragleave", () => over(false));
  form.addEventListener("drop", (event) => {
    event.preventDefault();
    over(false);
    if (event.dataTransfer && event.dataTransfer.files.length > 0) {
      input.files = event.dataTransfer.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });
});

// The source picker: typing narrows the list (chosen sources stay).
document.querySelectorAll(".source-picker").forEach((picker) => {
  const filter = picker.querySelector(".sources-filter");
  const select = picker.querySelector("select");
  if (!filter || !select) return;
  filter.hidden = false;
  filter.addEventListener("input", () => {
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    for (const option of select.options) {
      const text = option.textContent.toLowerCase();
      option.hidden = !option.selected && !words.every((w) => text.includes(w));
    }
  });
});
