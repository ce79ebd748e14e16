// Batches: the Paused checkbox posts at once and shows "pausing…" until the batch's
// status says it took effect; the Copy button copies a batch id.
(function () {
  "use strict";
  var PAUSED = ["paused", "paused_no_credit"];
  var SETTLED = ["finished", "failed", "deleted"];
  var LABELS = {
    importing: "Importing", queued: "Queued", running: "Running", paused: "Paused",
    paused_no_credit: "Paused (no credit)", finished: "Finished", failed: "Failed", deleted: "Deleted"
  };

  function tookEffect(batch, paused) {
    if (SETTLED.indexOf(batch.status) >= 0) { return true; }
    // A batch paused while importing says so only once the import is done.
    var isPaused = PAUSED.indexOf(batch.status) >= 0 || (batch.status === "importing" && batch.paused);
    return batch.paused === paused && isPaused === paused;
  }

  function showStatus(form, batch) {
    var row = form.closest("tr");
    var cell = row ? row.querySelector("td.status") : document.getElementById("batch-status");
    if (!cell) { return; }
    cell.textContent = LABELS[batch.status] || batch.status;
    cell.className = cell.className.replace(/status-\S+/, "status-" + batch.status);
  }

  function watch(form, box, pending, paused, tries) {
    fetch("/api/v1/batches/" + form.dataset.batchId, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (batch) {
        showStatus(form, batch);
        if (tookEffect(batch, paused) || tries > 60) {
          pending.hidden = true;
          box.disabled = false;
          form.classList.remove("is-pending");
          return;
        }
        setTimeout(function () { watch(form, box, pending, paused, tries + 1); }, 1000);
      });
  }

  Array.prototype.forEach.call(document.querySelectorAll("form.pause-form"), function (form) {
    var box = form.querySelector("input[type=checkbox]");
    var pending = form.querySelector(".pending");
    box.addEventListener("change", function () {
      var paused = box.checked;
      box.disabled = true;
      pending.textContent = paused ? "pausing…" : "resuming…";
      pending.hidden = false;
      form.classList.add("is-pending");
      var data = new FormData(form);
      if (paused) { data.set("paused", "true"); } else { data.delete("paused"); }
      fetch(form.action, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" }
      }).then(function (response) {
        if (!response.ok) { throw new Error("refused"); }
        return response.json();
      }).then(function (batch) {
        showStatus(form, batch);
        watch(form, box, pending, paused, 0);
      }).catch(function () {
        box.checked = !paused;
        box.disabled = false;
        pending.textContent = "failed: try again";
      });
    });
  });

  Array.prototype.forEach.call(document.querySelectorAll("button.copy"), function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.dataset.copy).then(function () {
        button.textContent = "Copied";
      });
    });
  });
})();
