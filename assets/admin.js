// The admin without JavaScript works as it is; this makes the preview live.
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
