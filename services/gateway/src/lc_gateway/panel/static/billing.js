// Billing: the total of Buy Credit follows the number of units typed.
(function () {
  "use strict";
  var units = document.getElementById("units");
  var price = document.getElementById("unit-price");
  if (!units || !price) { return; }
  var cents = parseInt(price.dataset.cents, 10);
  function update() {
    var n = parseInt(units.value, 10);
    var valid = n > 0;
    document.getElementById("total").textContent = price.dataset.currency + " " +
      (valid ? (n * cents / 100).toLocaleString("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : "—");
    document.getElementById("total-hint").textContent = valid ? "for " + n.toLocaleString("en") + " units" : "";
  }
  units.addEventListener("input", update);
  // The field may hold a value already: typed before this script loaded, or restored
  // by the browser on Back.
  update();
})();
