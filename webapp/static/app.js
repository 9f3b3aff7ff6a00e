// Spreadsheet-like keyboard use of the appendix tables, CSRF for htmx requests, print and confirm buttons.
// Tab moves to the next cell natively; Enter moves down the column (Shift+Enter up), as in Excel.
(function () {
  "use strict";

  // No inline handlers (the Content-Security-Policy forbids them): buttons and forms are wired here.
  // <button data-print> prints the page; <form data-confirm="question"> asks before it is sent.
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("[data-print]");
    if (button) { evt.preventDefault(); window.print(); }
    var close = evt.target.closest && evt.target.closest("[data-drill-close]");
    if (close) {  // the appendix's breakdown panel: back to its hint (on a phone, the sheet goes away)
      var content = document.getElementById("drill-content");
      if (content) content.innerHTML = "";
    }
  });
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) evt.preventDefault();
  });

  document.addEventListener("htmx:configRequest", function (evt) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) evt.detail.headers["X-CSRFToken"] = meta.content;
  });

  // A request that failed (server error, expired session, no connection) stored nothing: say so
  // at the top of the page and mark the field, so that nobody believes it was saved.
  var FAILED = {
    400: "Chưa lưu: phiên làm việc đã hết hạn hoặc yêu cầu không hợp lệ. Hãy tải lại trang rồi nhập lại.",
    401: "Chưa lưu: bạn đã đăng xuất. Hãy tải lại trang và đăng nhập lại.",
    403: "Chưa lưu: tài khoản của bạn không được sửa nội dung này.",
    413: "Chưa lưu: dữ liệu gửi lên quá lớn.",
    429: "Chưa lưu: quá nhiều yêu cầu, hãy thử lại sau ít phút."
  };
  function showFailure(evt, text) {
    var box = document.getElementById("request-failed");
    if (box) { box.textContent = text; box.hidden = false; box.scrollIntoView({ block: "nearest" }); }
    var elt = evt.detail && evt.detail.elt;
    if (elt && elt.classList) elt.classList.add("unsaved");
  }
  document.addEventListener("htmx:responseError", function (evt) {
    var status = evt.detail.xhr ? evt.detail.xhr.status : 0;
    showFailure(evt, FAILED[status] || "Chưa lưu: máy chủ gặp lỗi (mã " + status + "). Hãy thử lại; nếu vẫn lỗi, báo cho quản trị.");
  });
  document.addEventListener("htmx:sendError", function (evt) {
    showFailure(evt, "Chưa lưu: không kết nối được máy chủ. Kiểm tra mạng rồi nhập lại ô này.");
  });
  document.addEventListener("htmx:afterRequest", function (evt) {
    if (!evt.detail.successful) return;
    var box = document.getElementById("request-failed");
    if (box) box.hidden = true;
  });

  function cellsOf(table) {
    return Array.prototype.slice.call(table.querySelectorAll("input.cell, select.cell"));
  }

  function move(from, step) {
    var table = from.closest("table");
    if (!table) return;
    var cells = cellsOf(table);
    var col = from.getAttribute("data-col");
    var i = cells.indexOf(from);
    for (var j = i + step; j >= 0 && j < cells.length; j += step) {
      if (cells[j].getAttribute("data-col") === col) { cells[j].focus(); select(cells[j]); return; }
    }
    var next = cells[i + step];  // past the last row: on to the next column
    if (next) { next.focus(); select(next); }
  }

  function select(el) { if (el.select) el.select(); }

  document.addEventListener("keydown", function (evt) {
    var el = evt.target;
    if (evt.key !== "Enter" || !el.classList || !el.classList.contains("cell")) return;
    if (el.closest("tr.new-row")) return;  // Enter in the new list row adds it
    evt.preventDefault();
    move(el, evt.shiftKey ? -1 : 1);
  });

  // A row comes back from the server after each save. Keep what the clerk is typing meanwhile in
  // the other cells of that row, and send it when they leave the cell.
  var pending = {};
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var old = evt.detail.target;
    var trigger = evt.detail.requestConfig && evt.detail.requestConfig.elt;
    pending = {};
    // only a row coming back after one of its own cells was saved (not the "add" row being reset)
    if (!old || !old.querySelectorAll || !trigger || !trigger.classList.contains("cell")) return;
    old.querySelectorAll("input.cell").forEach(function (input) {
      if (input !== evt.detail.requestConfig.elt && input.value !== input.defaultValue) pending[input.id] = input.value;
    });
  });
  document.addEventListener("htmx:afterSwap", function () {
    Object.keys(pending).forEach(function (id) {
      var input = document.getElementById(id);
      if (input) { input.value = pending[id]; input.setAttribute("data-unsent", "1"); }
    });
    pending = {};
  });
  document.addEventListener("change", function (evt) {
    if (evt.target.removeAttribute) evt.target.removeAttribute("data-unsent");
  }, true);
  document.addEventListener("focusout", function (evt) {
    var el = evt.target;
    if (el.getAttribute && el.getAttribute("data-unsent")) {
      el.removeAttribute("data-unsent");
      el.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });
})();
