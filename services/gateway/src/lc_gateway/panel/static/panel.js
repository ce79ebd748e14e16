// Import page: preview the chosen file in place, so it stays selected for the import.
(function () {
  "use strict";
  var form = document.getElementById("import-form");
  var button = document.getElementById("preview-button");
  if (!form || !button) { return; }
  button.addEventListener("click", function (event) {
    var file = form.querySelector("input[type=file]");
    if (!file.files.length) { return; }  // let the browser's normal submit explain
    event.preventDefault();
    var target = document.getElementById("preview");
    target.textContent = "Reading the file…";
    var data = new FormData();
    data.append("file", file.files[0]);
    fetch("/import/preview", {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": form.dataset.csrf, "X-Requested-With": "fetch" }
    }).then(function (response) {
      if (response.ok) { return response.text(); }
      return response.json().then(function (body) {
        throw new Error(body.error ? body.error.message : "The preview failed.");
      });
    }).then(function (html) {
      target.innerHTML = html;
      var suggested = target.querySelector("[data-suggested]");
      var column = document.getElementById("phone_column");
      if (suggested && column && !column.value) { column.value = suggested.dataset.suggested; }
    }).catch(function (error) {
      target.textContent = "";
      var p = document.createElement("p");
      p.className = "flash error";
      p.textContent = error.message;
      target.appendChild(p);
    });
  });
})();
