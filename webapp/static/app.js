// CSRF and failures of htmx requests, print and confirm buttons. Entry of the tables (saving cells,
// the keyboard as in Excel) is static/cells.js.
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
    if (status === 423) return showFailure(evt, "Chưa lưu: " + evt.detail.xhr.responseText);  // the reason
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

})();
