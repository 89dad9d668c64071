// Matching panel: show only the fields that the chosen next step needs; draw score bars.
(function () {
  "use strict";
  function sync(form) {
    var select = form.querySelector(".step-target select");
    if (!select) { return; }
    form.querySelectorAll(".step-extra").forEach(function (box) {
      box.hidden = box.getAttribute("data-step") !== select.value;
    });
  }
  document.querySelectorAll("form.match-step").forEach(function (form) {
    var select = form.querySelector(".step-target select");
    if (select) { select.addEventListener("change", function () { sync(form); }); }
    sync(form);
  });
  document.querySelectorAll(".match-score[data-score]").forEach(function (bar) {
    bar.style.width = Math.max(8, parseInt(bar.getAttribute("data-score"), 10) || 0) + "%";
  });
}());
