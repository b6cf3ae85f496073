// Forms marked data-confirm="Question?" ask before they submit. Replaces inline onsubmit
// handlers, which the CSP refuses (scripts come from files of this origin only).
for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
}
