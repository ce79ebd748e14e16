// Import wizard: each Next sends the form in the background and shows the next step in
// place, so the chosen file stays selected for the steps after it and for the import.
(function () {
  "use strict";
  var form = document.getElementById("import-form");
  if (!form) { return; }
  var target = document.getElementById("wizard");
  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!button || button.getAttribute("formaction") !== "/import/preview") { return; }
    var file = form.querySelector("input[type=file]");
    if (!file.files.length) { return; }  // let the browser's normal submit explain
    event.preventDefault();
    var data = new FormData(form);
    data.delete("csrf_token");
    var busy = document.createElement("p");
    busy.className = "hint";
    busy.textContent = "Reading the file…";
    target.appendChild(busy);
    fetch("/import/preview", {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": form.dataset.csrf, "X-Requested-With": "fetch" }
    }).then(function (response) {
      if (response.ok) { return response.text(); }
      return response.json().then(function (body) {
        throw new Error(body.error ? body.error.message : "The file could not be read.");
      });
    }).then(function (html) {
      target.innerHTML = html;
      Array.prototype.forEach.call(form.querySelectorAll("#step-file .actions"), function (el) { el.remove(); });
      var current = target.querySelectorAll(".step.current");
      if (current.length) { current[0].scrollIntoView({ block: "start" }); }
    }).catch(function (error) {
      busy.className = "flash error";
      busy.textContent = error.message;
    });
  });
})();
