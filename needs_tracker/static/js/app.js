// Behaviour for server-rendered pages; no inline scripts, so a strict CSP works.
(function () {
  "use strict";

  // Confirm destructive forms (data-confirm="message").
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var msg = form.getAttribute && form.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      event.preventDefault();
    }
  });

  // A POST form, once sent, cannot be sent again until the answer comes: a second tap on a
  // slow phone connection would otherwise save the visit twice. Forms with data-busy also
  // say what is happening (an import takes seconds).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || (form.method || "").toLowerCase() !== "post") { return; }
    if (form.getAttribute("data-sending")) { event.preventDefault(); return; }
    form.setAttribute("data-sending", "1");
    form.setAttribute("aria-busy", "true");
    var buttons = form.querySelectorAll("button:not([type=button]), input[type=submit]");
    var busy = form.getAttribute("data-busy");
    // After this event: the browser reads the form (and which button was pressed) first.
    setTimeout(function () {
      buttons.forEach(function (b) { b.disabled = true; });
      if (busy && buttons.length) {
        var note = document.createElement("span");
        note.className = "busy-note ms-2 small";
        note.setAttribute("role", "status");
        note.innerHTML = '<span class="spinner-border spinner-border-sm me-1" aria-hidden="true"></span>';
        note.appendChild(document.createTextNode(busy));
        buttons[buttons.length - 1].insertAdjacentElement("afterend", note);
      }
    }, 0);
    // A response that is a download leaves the page in place: give the form back.
    setTimeout(function () { release(form); }, 15000);
  });
  function release(form) {
    form.removeAttribute("data-sending");
    form.removeAttribute("aria-busy");
    form.querySelectorAll("button, input[type=submit]").forEach(function (b) { b.disabled = false; });
    form.querySelectorAll(".busy-note").forEach(function (n) { n.remove(); });
  }
  // Back to a page kept in the browser's cache: its forms must work again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { document.querySelectorAll("form[data-sending]").forEach(release); }
  });

  // On a phone, a list's filters beyond the search box wait behind "More filters" (they took
  // half the screen above the list); shown at once when one of them is in use.
  if (window.matchMedia("(max-width: 576px)").matches) {
    document.querySelectorAll("form[data-more-filters]").forEach(function (form, n) {
      var extras = form.querySelectorAll(".filter-extra");
      var inUse = Array.prototype.some.call(extras, function (box) {
        return Array.prototype.some.call(box.querySelectorAll("input,select"), function (el) { return el.value; });
      });
      if (!extras.length || inUse) { return; }
      var id = "more-filters-" + n;
      extras.forEach(function (box, i) { box.hidden = true; if (!i) { box.id = id; } });
      var wrap = document.createElement("div");
      wrap.className = "col-6 col-md-2";
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-sm btn-outline-secondary w-100 more-filters";
      button.setAttribute("aria-expanded", "false");
      button.setAttribute("aria-controls", id);
      button.textContent = form.getAttribute("data-more-filters");
      button.addEventListener("click", function () {
        var open = button.getAttribute("aria-expanded") !== "true";
        extras.forEach(function (box) { box.hidden = !open; });
        button.setAttribute("aria-expanded", open ? "true" : "false");
        if (open) { var first = extras[0].querySelector("input,select"); if (first) { first.focus(); } }
      });
      wrap.appendChild(button);
      extras[0].parentNode.insertBefore(wrap, extras[0]);
    });
  }

  // "Add a row" for FieldList fieldsets: clone the last row, bump the index, clear values.
  document.querySelectorAll("[data-add-row]").forEach(function (button) {
    button.addEventListener("click", function () {
      var fieldset = document.querySelector('[data-rows="' + button.getAttribute("data-add-row") + '"]');
      var rows = fieldset.querySelectorAll(".row-item");
      var last = rows[rows.length - 1];
      var clone = last.cloneNode(true);
      var prefix = button.getAttribute("data-add-row") + "-";
      var next = rows.length;
      var re = new RegExp("^" + prefix + "\\d+-");
      clone.querySelectorAll("[name],[id],[for],[aria-describedby]").forEach(function (el) {
        ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
          var v = el.getAttribute(attr);
          if (v) {
            el.setAttribute(attr, v.split(" ").map(function (p) {
              return p.replace(re, prefix + next + "-");
            }).join(" "));
          }
        });
        if (el.tagName === "INPUT" || el.tagName === "TEXTAREA") { el.value = ""; }
        if (el.tagName === "SELECT") {
          Array.prototype.forEach.call(el.options, function (o) { o.selected = false; });
          if (!el.multiple && el.options.length) { el.options[0].selected = true; }
        }
        el.classList.remove("is-invalid");
        el.removeAttribute("aria-invalid");
      });
      clone.querySelectorAll(".invalid-feedback").forEach(function (e) { e.remove(); });
      last.parentNode.insertBefore(clone, button);
      var first = clone.querySelector("input,select,textarea");
      if (first) { first.focus(); }
    });
  });

  // A visit saved: forget the browser's draft of it (the one that carries its form key).
  document.querySelectorAll("[data-saved-visit][data-draft-key]").forEach(function (el) {
    var key = el.getAttribute("data-draft-key");
    try {
      var draft = JSON.parse(window.localStorage.getItem(key) || "null");
      if (draft && draft.fields && draft.fields.client_key === el.getAttribute("data-saved-visit")) {
        window.localStorage.removeItem(key);
      }
    } catch (e) { /* no storage: nothing to forget */ }
  });

  // Need status form: the "move back" confirmation shows only for a backward target.
  document.querySelectorAll("form.need-status[data-backward]").forEach(function (form) {
    var select = form.querySelector("select");
    var box = form.querySelector(".confirm-back");
    if (!select || !box) { return; }
    var backward = form.getAttribute("data-backward").split(" ");
    var sync = function () { box.hidden = backward.indexOf(select.value) < 0; };
    select.addEventListener("change", sync);
    sync();
  });
})();
