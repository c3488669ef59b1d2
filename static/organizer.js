/* Back office: small progressive enhancements. Every page works without this file.
 *
 * - Row editors: "Add line" / "Remove" work in place instead of posting the form back.
 * - Invoice form: fields that only apply to one invoice type hide for the others.
 * - Copy buttons for keys, links and tokens.
 * - Forms with data-confirm ask before a destructive step; a POST form is sent once, a
 *   second click while it is on its way does nothing (no double close, no double payment).
 * - Invoice form: live totals from the server's money engine (POST …/invoices/preview);
 *   without scripts the totals show after saving. No money rule is computed here.
 */
(function () {
  "use strict";

  function renumber(editor) {
    var rows = editor.querySelectorAll("[data-editor-rows] > [data-editor-row]");
    rows.forEach(function (row, i) {
      var number = row.querySelector("[data-row-number]");
      if (number) { number.textContent = String(i + 1); }
    });
    var add = editor.querySelector("[data-editor-add]");
    var max = parseInt(editor.getAttribute("data-max-rows") || "1000", 10);
    if (add) { add.hidden = rows.length >= max; }
  }

  function addRow(editor) {
    var template = editor.querySelector("template[data-editor-template]");
    var rows = editor.querySelector("[data-editor-rows]");
    if (!template || !rows) { return; }
    var index = parseInt(editor.getAttribute("data-next-index") || "0", 10);
    editor.setAttribute("data-next-index", String(index + 1));
    var count = rows.querySelectorAll(":scope > [data-editor-row]").length;
    var html = template.innerHTML.split("__index__").join(String(index))
      .split("__number__").join(String(count + 1));
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var row = holder.firstElementChild;
    rows.appendChild(row);
    renumber(editor);
    var first = row.querySelector("input, select, textarea");
    if (first) { first.focus(); }
  }

  function setUpEditors() {
    document.querySelectorAll("[data-editor]").forEach(function (editor) {
      editor.addEventListener("click", function (event) {
        var add = event.target.closest("[data-editor-add]");
        var remove = event.target.closest("[data-editor-remove]");
        if (add && editor.contains(add)) {
          event.preventDefault();
          addRow(editor);
        } else if (remove && editor.contains(remove)) {
          event.preventDefault();
          var row = remove.closest("[data-editor-row]");
          if (row) { row.remove(); }
          renumber(editor);
        }
      });
      renumber(editor);
    });
  }

  function setUpTypeSwitch() {
    var form = document.querySelector("[data-invoice-form]");
    if (!form) { return; }
    var type = form.querySelector("select[name='type']");
    if (!type) { return; }
    function apply() {
      form.querySelectorAll("[data-show-for-type]").forEach(function (part) {
        var wanted = part.getAttribute("data-show-for-type");
        var hasErrors = part.querySelector(".has-error, .group-errors");
        part.hidden = type.value !== wanted && !hasErrors;
      });
    }
    type.addEventListener("change", apply);
    apply();
  }

  function setUpCopyButtons() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var field = document.querySelector(button.getAttribute("data-copy"));
        if (!field) { return; }
        var label = button.textContent;
        function done(ok) {
          button.textContent = ok ? "Copied" : "Press Ctrl+C";
          window.setTimeout(function () { button.textContent = label; }, 2000);
        }
        field.select();
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(field.value).then(function () { done(true); },
            function () { done(false); });
        } else {
          var ok = false;
          try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
          done(ok);
        }
      });
    });
  }

  function setUpConfirmations() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var question = form.getAttribute && form.getAttribute("data-confirm");
      if (form.getAttribute && form.getAttribute("data-submitting")) {
        event.preventDefault();  // a second click while the first is on its way: once only
        return;
      }
      if (question && !window.confirm(question)) { event.preventDefault(); return; }
      if (form.setAttribute && !event.defaultPrevented
          && (form.getAttribute("method") || "").toLowerCase() === "post") {
        form.setAttribute("data-submitting", "true");
      }
    });
    window.addEventListener("pageshow", function () {  // back from the page cache
      document.querySelectorAll("form[data-submitting]").forEach(function (form) {
        form.removeAttribute("data-submitting");
      });
    });
  }

  function setUpLiveTotals() {
    var box = document.querySelector("[data-live-totals]");
    var form = box && box.closest("form");
    if (!box || !form || !window.fetch || !window.FormData) { return; }
    var url = box.getAttribute("data-preview-url");
    var timer = null;
    var serial = 0;
    function refresh() {
      var mine = ++serial;
      var body = new FormData(form);
      body.delete("command");
      fetch(url, {method: "POST", body: body, credentials: "same-origin",
                  headers: {"X-Requested-With": "fetch", "Accept": "application/json"}})
        .then(function (response) {
          return response.json().then(function (data) { return [response.status, data]; });
        })
        .then(function (result) {
          if (mine !== serial) { return; }  // a newer request is on its way
          if (result[0] === 200 && result[1].html) {
            box.innerHTML = result[1].html;
          } else {
            box.setAttribute("data-incomplete", "true");
          }
          box.setAttribute("data-state", result[0] === 200 ? "ok" : "incomplete");
        })
        .catch(function () { box.setAttribute("data-state", "offline"); });
    }
    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 250);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    form.addEventListener("click", function (event) {
      if (event.target.closest("[data-editor-remove], [data-editor-add]")) { later(); }
    });
    refresh();
  }

  function restoreForm() {
    // A form given back after an expired session that only re-opens (nothing is saved).
    var form = document.querySelector("form[data-restore-form][data-auto-submit]");
    if (form) { form.submit(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    restoreForm();
    setUpLiveTotals();
    setUpEditors();
    setUpTypeSwitch();
    setUpCopyButtons();
    setUpConfirmations();
  });
}());
