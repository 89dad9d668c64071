// Visit form: a searchable company picker (Tom Select, served from static/vendor), the needs'
// company lists limited to the companies of this visit, and a draft kept in this browser (one
// per user) from the first keystroke until the visit is saved: a phone that loses its
// connection while sending loses nothing. The draft carries the form's idempotency key, so
// sending a restored draft again never saves a second visit.
(function () {
  "use strict";
  var form = document.getElementById("visit-form");
  if (!form) { return; }
  var orgSelect = document.getElementById("organisation_ids");
  var newOrgs = document.getElementById("new_organisations");
  var NEW_PREFIX = "new:";

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text || "";
    return div.innerHTML;
  }

  // --- the needs' companies: those of this visit ------------------------------------------
  function visitCompanies() {
    var chosen = [];
    if (orgSelect) {
      Array.prototype.forEach.call(orgSelect.options, function (o) {
        if (o.selected) { chosen.push({ value: o.value, text: o.text }); }
      });
    }
    var names = newOrgs ? newOrgs.value.split(/\n/).map(function (s) { return s.trim(); }).filter(Boolean) : [];
    names.forEach(function (n) { chosen.push({ value: NEW_PREFIX + n, text: n }); });
    return chosen;
  }
  function syncNeedOrgs() {
    var companies = visitCompanies();
    document.querySelectorAll(".need-org select").forEach(function (select) {
      var current = select.value;
      while (select.options.length > 1) { select.remove(1); }
      companies.forEach(function (c) {
        select.add(new Option(c.text, c.value, false, c.value === current));
      });
    });
  }

  // --- the searchable picker ----------------------------------------------------------------
  var picker = null;
  if (orgSelect && window.TomSelect) {
    // Tom Select moves the label to its search box; the (hidden) select keeps its name.
    var label = document.querySelector('label[for="organisation_ids"]');
    if (label) { orgSelect.setAttribute("aria-label", label.textContent.trim()); }
    picker = new window.TomSelect(orgSelect, {
      plugins: ["remove_button"],
      maxOptions: 100,
      // A company picked, the search starts afresh for the next one.
      onItemAdd: function () { this.setTextboxValue(""); this.refreshOptions(false); },
      placeholder: form.getAttribute("data-search-placeholder") || "",
      render: {
        no_results: function () {
          return '<div class="no-results">' + escapeHtml(form.getAttribute("data-no-results")) + "</div>";
        }
      }
    });
  }
  if (orgSelect) { orgSelect.addEventListener("change", syncNeedOrgs); }
  if (newOrgs) {
    newOrgs.addEventListener("change", syncNeedOrgs);
    newOrgs.addEventListener("blur", syncNeedOrgs);
  }
  if (!form.getAttribute("data-posted")) { syncNeedOrgs(); }

  // --- the draft ------------------------------------------------------------------------------
  var key = form.getAttribute("data-draft-key");
  if (!key || !window.localStorage) { return; }

  function collect() {
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token" || el.type === "submit" || el.type === "button") { return; }
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) { (data[el.name] = data[el.name] || []).push(el.value); }
      } else if (el.tagName === "SELECT" && el.multiple) {
        data[el.name] = Array.prototype.filter.call(el.options, function (o) { return o.selected; })
          .map(function (o) { return o.value; });
      } else {
        data[el.name] = el.value;
      }
    });
    return data;
  }
  function rowCounts() {
    var out = {};
    form.querySelectorAll("[data-rows]").forEach(function (box) {
      out[box.getAttribute("data-rows")] = box.querySelectorAll(".row-item").length;
    });
    return out;
  }
  function read() {
    try { return JSON.parse(window.localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }
  var pristine = JSON.stringify(collect());
  function save() {
    var fields = collect();
    if (JSON.stringify(fields) === pristine) { return; }
    try {
      window.localStorage.setItem(key, JSON.stringify({ at: Date.now(), rows: rowCounts(), fields: fields }));
    } catch (e) { /* storage full or denied: the form still works, without a draft */ }
  }
  var timer = null;
  function saveSoon() { window.clearTimeout(timer); timer = window.setTimeout(save, 300); }
  form.addEventListener("input", saveSoon);
  form.addEventListener("change", saveSoon);
  // Sending is when a connection is lost: keep the latest values before the request leaves.
  form.addEventListener("submit", function () { window.clearTimeout(timer); save(); });

  function setValue(el, value) {
    if (el.tagName === "SELECT" && el.multiple) {
      var wanted = Array.isArray(value) ? value : [];
      if (el === orgSelect && picker) { picker.setValue(wanted, true); }
      Array.prototype.forEach.call(el.options, function (o) { o.selected = wanted.indexOf(o.value) >= 0; });
    } else if (el.type === "checkbox" || el.type === "radio") {
      el.checked = Array.isArray(value) && value.indexOf(el.value) >= 0;
    } else if (value !== undefined) {
      el.value = value;
    }
  }
  function restore(draft) {
    Object.keys(draft.rows || {}).forEach(function (kind) {
      var box = form.querySelector('[data-rows="' + kind + '"]');
      var add = form.querySelector('[data-add-row="' + kind + '"]');
      while (box && add && box.querySelectorAll(".row-item").length < draft.rows[kind]) { add.click(); }
    });
    var fields = draft.fields || {};
    // The visit's companies first: the needs' company lists are built from them.
    [newOrgs, orgSelect].forEach(function (el) { if (el) { setValue(el, fields[el.name]); } });
    syncNeedOrgs();
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name && el !== orgSelect && el !== newOrgs && el.name !== "csrf_token" && el.name in fields) {
        setValue(el, fields[el.name]);
      }
    });
    pristine = "";
  }

  var banner = document.querySelector(".draft-banner");
  var draft = read();
  if (banner && draft && draft.fields && !form.getAttribute("data-posted")) {
    banner.querySelector(".draft-time").textContent = new Date(draft.at).toLocaleString(document.documentElement.lang || undefined);
    banner.hidden = false;
    banner.querySelector(".draft-restore").addEventListener("click", function () {
      restore(draft);
      banner.hidden = true;
      var first = form.querySelector("input:not([type=hidden]),select,textarea");
      if (first) { first.focus(); }
    });
    banner.querySelector(".draft-discard").addEventListener("click", function () {
      window.localStorage.removeItem(key);
      banner.hidden = true;
    });
  }
}());
