// Entry of a unit's tables as a clerk types from paper: every change is saved one at a time, in the
// order it was made, and the server's answers never touch what is being typed.
//
// An input with data-save="URL" is saved when the clerk leaves it (Tab, Enter, mouse) if its value
// differs from the stored one, or if its last save did not go through. Saves wait in one queue and
// go out one at a time, so that a row's rules see its cells in the order they were typed; a change
// to a cell still waiting replaces the waiting one. A save that cannot reach the server stays in the
// queue and is sent again with back-off, and at once when the browser says the link is back. The
// answer is a few <td> (the saved cell, and the cells of its row whose computed value or message
// changed): each is merged into the page around the live input, whose value is changed only when
// the clerk is elsewhere and has not typed in it since it was sent.
//
// Grid cells post `value` and `version` to their own URL; a document of a list table (table I)
// posts its whole row (`row:ID:col` fields and `v:row:ID`). The blank last row of a list adds a
// document with Enter or its button; a removed document goes with its Xóa button (after a question).
//
// A rich-text editor (class "cell rich", data-key, a `value` property: narrative.js) goes through
// the same queue as a cell: its box's `v:` input holds its version, and each answer is handed to it
// as a "cells:answer" event (detail: status, text, sent) once the queue has set its state.
(function () {
  "use strict";

  var queue = [];          // saves waiting, oldest first
  var inFlight = null;     // the save on its way
  var blocked = null;      // why saving stopped for good on this page (signed out, part locked…)
  var retries = 0, retryTimer = null;
  var pendingRows = 0;     // provisional documents of a list, numbered for their ids
  var RETRY_MAX_MS = 30000, TIMEOUT_MS = 20000;

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function csrfToken() { var m = $('meta[name="csrf-token"]'); return m ? m.content : ""; }

  // --- what a cell or a document is ----------------------------------------------------------

  function isSaveInput(el) { return el && el.classList && el.classList.contains("cell") && el.hasAttribute("data-save"); }
  function isRich(el) { return el.classList.contains("rich"); }

  // The key of the thing a field belongs to: one grid cell, one document (all its fields), one text.
  function keyOf(el) {
    if (el.getAttribute("data-key")) return el.getAttribute("data-key");
    return el.getAttribute("data-row") ? "row:" + el.getAttribute("data-row") : el.name;
  }

  function fieldsOf(el) {
    if (!el.getAttribute("data-row")) return [el];
    return $$("[data-save][data-row='" + el.getAttribute("data-row") + "']", el.closest("tr"));
  }

  function savedValue(el) {
    if (el._saved === undefined) el._saved = initialValue(el);
    return el._saved;
  }

  function initialValue(el) {
    if (el.tagName === "SELECT") {
      var sel = $$("option", el).filter(function (o) { return o.defaultSelected; })[0];
      return sel ? sel.value : "";
    }
    return el.defaultValue;
  }

  // The newest save of a cell or document not yet answered: the last one waiting, else the one on
  // its way. Its values are what the server will hold once it is answered.
  function latest(key) {
    for (var i = queue.length - 1; i >= 0; i--) if (queue[i].key === key) return queue[i];
    return inFlight && inFlight.key === key ? inFlight : null;
  }

  // A field needs saving when it differs from what the server will hold (the value of its newest
  // save not yet answered, else the stored one), or when its last save was refused or failed.
  function needsSave(el) {
    var last = latest(keyOf(el));
    if (last) return el.value !== last.sent[el.id];
    var st = el.getAttribute("data-state");
    return (el.value !== savedValue(el) && el.value !== el._acked) || st === "failed" || st === "refused";
  }

  // What Esc puts back: the value on its way or waiting to be sent again, else the stored one.
  function target(el) {
    var last = latest(keyOf(el));
    return last ? last.sent[el.id] : savedValue(el);
  }

  function setState(el, state) {
    if (state) el.setAttribute("data-state", state); else el.removeAttribute("data-state");
  }

  // --- the queue ------------------------------------------------------------------------------

  // A change to save. One waiting and never sent for the same cell or document is replaced; one
  // already sent (on its way, or waiting to be sent again after a failure) is kept and answered
  // first, so that its version moves on before the newer value goes (the server may have stored it).
  function enqueue(el) {
    var key = keyOf(el), fields = fieldsOf(el);
    queue = queue.filter(function (it) { return it.key !== key || it.attempted; });
    var last = latest(key);
    if (last && fields.every(function (f) { return last.sent[f.id] === f.value; })) {
      fields.forEach(function (f) { setState(f, last === inFlight ? "saving" : "failed"); });
      retryNow();  // typed again while waiting to be sent again: try now
      return;
    }
    var item = { key: key, url: el.getAttribute("data-save"), fields: fields, sent: {}, row: el.closest("tr") };
    // waiting behind a failure (or for a page that cannot save) is not "on its way"
    fields.forEach(function (f) { item.sent[f.id] = f.value; setState(f, blocked || retryTimer ? "failed" : "queued"); });
    queue.push(item);
    pump();
  }

  function retryNow() {
    if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; }
    retries = 0;
    pump();
  }

  function body(item) {
    var data = new URLSearchParams();
    if (item.add) {
      Object.keys(item.add).forEach(function (name) { data.append(name, item.add[name]); });
      return data;
    }
    // versions are read now: an earlier answer may have moved them on
    if (item.remove || item.key.indexOf("row:") === 0) {  // a document: its fields (an edit), its version
      item.fields.forEach(function (f) { data.append(f.name, item.sent[f.id]); });
      var v = $("input[name^='v:row:']", item.row);
      if (v) data.append(v.name, v.value);
    } else {
      var field = item.fields[0];
      data.append("value", item.sent[field.id]);
      var version = $("input[name^='v:']", field.closest("td, form"));
      if (version) data.append("version", version.value);
    }
    return data;
  }

  function pump() {
    render();
    if (inFlight || blocked || retryTimer || !queue.length) return;
    inFlight = queue.shift();
    inFlight.attempted = true;
    inFlight.fields.forEach(function (f) { if (latest(keyOf(f)) === inFlight) setState(f, "saving"); });
    var item = inFlight;
    var abort = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () { if (abort) abort.abort(); }, TIMEOUT_MS);
    fetch(item.url, {
      method: "POST", body: body(item), credentials: "same-origin", signal: abort ? abort.signal : undefined,
      headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" }
    }).then(function (resp) {
      return resp.text().then(function (text) { return { resp: resp, text: text }; });
    }).then(function (r) {
      clearTimeout(timer);
      answered(item, r.resp, r.text);
    }, function () {
      clearTimeout(timer);
      unreachable(item, "Chưa lưu: không kết nối được máy chủ. Các ô chưa lưu sẽ được gửi lại khi có mạng.");
    });
  }

  function finish() { inFlight = null; pump(); }

  // The save could not be made now but may be later: back at the head of the queue, tried again.
  function unreachable(item, message) {
    inFlight = null;
    queue.unshift(item);
    // everything waiting is now waiting for the link, not on its way
    queue.forEach(function (it) { it.fields.forEach(function (f) { setState(f, "failed"); }); });
    retries += 1;
    var delay = Math.min(RETRY_MAX_MS, 1000 * Math.pow(2, retries - 1));
    showProblem(message);
    retryTimer = setTimeout(function () { retryTimer = null; pump(); }, delay);
    render();
  }

  // Saving cannot go on from this page (the session ended, the part was locked): every change
  // waiting is marked not saved, and the reason stays at the top.
  function stop(item, message) {
    blocked = message;
    [item].concat(queue).forEach(function (it) { it.fields.forEach(function (f) { setState(f, "failed"); }); });
    queue.unshift(item);
    inFlight = null;
    showProblem(message);
    render();
  }

  var STOPPED = {
    400: "Chưa lưu: phiên làm việc đã hết hạn hoặc yêu cầu không hợp lệ. Chép lại các ô được đánh dấu, tải lại trang rồi nhập lại.",
    401: "Chưa lưu: bạn đã đăng xuất. Đăng nhập lại ở một thẻ khác rồi nhập lại các ô được đánh dấu.",
    403: "Chưa lưu: tài khoản của bạn không được sửa nội dung này."
  };

  function answered(item, resp, text) {
    var status = resp.status;
    if (resp.redirected && /\/login/.test(resp.url)) return stop(item, STOPPED[401]);
    if (status === 423) return stop(item, "Chưa lưu: " + text);
    if (STOPPED[status]) return stop(item, STOPPED[status]);
    if (status !== 200 && status !== 409 && status !== 422 && status !== 410) {
      return unreachable(item, "Chưa lưu: máy chủ gặp lỗi (mã " + status + "). Đang thử gửi lại; nếu vẫn lỗi, báo cho quản trị.");
    }
    retries = 0;
    hideProblem();
    if (status === 410) { rowGone(item, text); return finish(); }
    if (item.add) addAnswered(item, status, text);
    else if (item.remove) removeAnswered(item, status, text);
    else {
      // changed meanwhile by someone else: nothing of the clerk's goes over it before they have seen it
      if (status === 409) queue = queue.filter(function (it) { return it.key !== item.key; });
      merge(text, item, status);
      item.fields.forEach(function (f) {
        if (status === 200) f._acked = item.sent[f.id];
        f._refused = status === 422 ? item.sent[f.id] : undefined;
        if (isWaiting(f)) return;  // a newer value waits: its state stands
        if (status === 200) showSaved(f);
        else if (status === 422) setState(f, "refused");
        else setState(f, f.value === savedValue(f) ? "conflict" : "refused");  // typed since: not saved
      });
      item.fields.forEach(function (f) {
        if (isRich(f)) f.dispatchEvent(new CustomEvent("cells:answer", { detail: { status: status, text: text, sent: item.sent[f.id] } }));
      });
      if (status === 200) {
        if (item.key.indexOf("row:") !== 0) retryRefusedSiblings(item);
        resendChangedSince(item);
      }
    }
    finish();
  }

  // A cell just stored says so for a moment (its state then goes back to none: saved).
  function showSaved(el) {
    setState(el, "saved");
    setTimeout(function () { if (el.getAttribute("data-state") === "saved") setState(el, null); }, 1500);
  }

  // Typed over while its save was on its way, and already left: the newer value goes too.
  function resendChangedSince(item) {
    var active = document.activeElement;
    var field = item.fields.filter(function (f) {
      return !isWaiting(f) && f.value !== f._saved && f.value !== f._acked;
    })[0];
    if (field && !(item.row && item.row.contains(active) && item.key.indexOf("row:") === 0) && field !== active) enqueue(field);
  }

  // A document removed by someone else meanwhile: its removal is done; an edit of it is refused
  // with the reason, and its fields stop counting as waiting.
  function rowGone(item, text) {
    if (item.remove) { item.row.remove(); renumber(); return; }
    queue = queue.filter(function (it) { return it.row !== item.row; });
    item.row.classList.add("refused-row");
    item.fields.forEach(function (f) { setState(f, null); f.removeAttribute("data-save"); f.readOnly = true; });
    var actions = $("td.actions", item.row);
    $$(".msg", actions).forEach(function (m) { m.remove(); });
    var message = document.createElement("p");
    message.className = "msg error";
    message.textContent = text;
    if (actions) actions.appendChild(message);
  }

  function isWaiting(el) {
    var key = keyOf(el);
    return queue.some(function (it) { return it.key === key; });
  }

  // A row's refused value may have been refused because of another cell (an "of which" above its
  // total): once a cell of the row is saved, the refused ones are tried again.
  function retryRefusedSiblings(item) {
    if (!item.row) return;  // a text has no row
    var saved = item.fields[0];
    $$("[data-save][data-state='refused']", item.row).forEach(function (el) {
      // the value refused, still as it was (the clerk may be in the cell, but has not typed over it)
      if (el !== saved && el.value === el._refused && !isWaiting(el)) enqueue(el);
    });
  }

  // --- merging an answer ----------------------------------------------------------------------

  function fragment(html) {
    var t = document.createElement("template");
    t.innerHTML = html;
    return t.content;
  }

  function merge(html, item, status) {
    var frag = fragment(html);
    $$("td[id]", frag).forEach(function (fresh) {
      var old = document.getElementById(fresh.id);
      if (!old) return;
      var live = $(".cell", old);
      if (!live) { old.replaceWith(fresh); return; }  // a computed or read-only cell
      var mine = item && item.sent.hasOwnProperty(live.id);
      // a cell with a change of its own waiting, or refused and not corrected, keeps what it shows
      if (!mine && (isWaiting(live) || live.getAttribute("data-state") === "refused" ||
                    live.getAttribute("data-state") === "failed")) return;
      mergeCell(old, fresh, live, mine ? item : null, status);
    });
  }

  function mergeCell(old, fresh, live, item, status) {
    var twin = $(".cell", fresh);
    old.className = fresh.className;
    ["aria-invalid", "aria-describedby", "aria-label", "title", "name", "data-save"].forEach(function (name) {
      if (twin.hasAttribute(name)) live.setAttribute(name, twin.getAttribute(name)); else live.removeAttribute(name);
    });
    // everything around the input is the answer's (messages, version, history link); the input stays
    $$(":scope > *", old).forEach(function (n) { if (n !== live) n.remove(); });
    Array.prototype.slice.call(old.childNodes).forEach(function (n) { if (n !== live && n.nodeType === 3) n.remove(); });
    var before = true;
    Array.prototype.slice.call(fresh.childNodes).forEach(function (n) {
      if (n === twin) { before = false; return; }
      if (before) old.insertBefore(n, live); else old.appendChild(n);
    });
    if (status === 422) return;  // what was typed stays, with the message, until it is corrected
    if (status === 409) live._refused = undefined;
    var stored = twin.tagName === "SELECT" ? selectedValue(twin) : twin.value;
    if (twin.tagName === "SELECT") syncOptions(live, twin);
    live._saved = stored;
    var untouched = !item || live.value === item.sent[live.id];
    if (untouched && live !== document.activeElement && live.value !== stored) live.value = stored;
  }

  function selectedValue(select) {
    var opt = $$("option", select).filter(function (o) { return o.hasAttribute("selected"); })[0];
    return opt ? opt.value : "";
  }

  function syncOptions(live, twin) {  // an extra option (a value outside the list) comes and goes
    var values = $$("option", twin).map(function (o) { return o.value; });
    $$("option", live).forEach(function (o) { if (values.indexOf(o.value) < 0 && o.value !== live.value) o.remove(); });
    $$("option", twin).forEach(function (o) {
      if (!$$("option", live).some(function (l) { return l.value === o.value; })) live.appendChild(o.cloneNode(true));
    });
  }

  // --- list tables: adding and removing documents -------------------------------------------

  function newRowFields(tr) { return $$("input.cell, select.cell", tr); }

  function lockFields(tr, locked) {  // a document being added cannot be changed meanwhile
    newRowFields(tr).forEach(function (f) { if (f.tagName === "SELECT") f.disabled = locked; else f.readOnly = locked; });
  }

  function addDocument(tr) {
    var button = $("button[data-add]", tr);
    if (!button || latest(tr.id)) return;  // already being added
    var fields = newRowFields(tr);
    if (!fields.some(function (f) { return f.value.trim() !== ""; })) {  // nothing typed: nothing to add
      if (tr.id !== "list-new") { tr.remove(); render(); }  // a refused document emptied: dropped
      var first = $("#list-new .cell");
      if (first) first.focus();
      return;
    }
    var pending = tr;
    if (tr.id === "list-new") {  // the blank row empties at once for the next document
      pendingRows += 1;
      pending = tr.cloneNode(true);
      pending.id = "list-pending-" + pendingRows;
      pending.classList.add("pending-row");
      $$("[id]", pending).forEach(function (n) { n.id = n.id.replace(/^new-/, "pending" + pendingRows + "-"); });
      $$("input.cell, select.cell", pending).forEach(function (f, i) { f.value = fields[i].value; });
      $("td.serial", pending).textContent = "…";
      $$(".msg", pending).forEach(function (m) { m.remove(); });
      var body = document.getElementById("list-body");
      var empty = $("tr.empty-row", body);
      if (empty) empty.remove();
      body.appendChild(pending);
      fields.forEach(function (f) { f.value = ""; if (f.tagName === "SELECT") f.selectedIndex = 0; });
      fields[0].focus();
    }
    lockFields(pending, true);
    pending.classList.add("pending-row");
    pending.classList.remove("refused-row");
    var data = {};
    $$("input.cell, select.cell", pending).forEach(function (f) { data["new:" + f.getAttribute("data-col")] = f.value; });
    var item = { key: pending.id, url: button.getAttribute("data-add"), add: data, row: pending,
                 fields: newRowFields(pending), sent: {} };
    item.fields.forEach(function (f) { item.sent[f.id] = f.value; setState(f, "queued"); });
    queue = queue.filter(function (it) { return it.key !== item.key; });
    queue.push(item);
    pump();
  }

  function addAnswered(item, status, text) {
    var row = item.row;
    if (status === 200) {
      var tr = $("tr[id^='lrow-']", fragment(text));
      var focused = row.contains(document.activeElement);
      if (document.getElementById(tr.id)) row.remove();  // sent twice, stored once: it is listed already
      else row.replaceWith(tr);
      renumber();
      if (focused) { var first = $("#list-new .cell"); if (first) first.focus(); }
      return;
    }
    // refused: the document stays as a row of its own with the messages, to correct and add again
    row.classList.add("refused-row");
    row.classList.remove("pending-row");
    lockFields(row, false);
    $("td.serial", row).textContent = "!";
    var answer = fragment(text);
    $$(".msg", row).forEach(function (m) { m.remove(); });
    $$("td", answer.querySelector("tr") || answer).forEach(function (td, i) {
      var target = row.children[i];
      if (!target) return;
      $$(".msg", td).forEach(function (m) { target.appendChild(m); });
    });
    $$("input.cell, select.cell", row).forEach(function (f) {  // the fields with a message are marked
      setState(f, $(".msg", f.closest("td")) ? "refused" : null);
    });
  }

  function removeDocument(button) {
    var question = button.getAttribute("data-question");
    if (question && !window.confirm(question)) return;
    var tr = button.closest("tr");
    var item = { key: "remove:" + tr.id, url: button.getAttribute("data-remove"), remove: true, row: tr, fields: [], sent: {} };
    // its edits not yet sent no longer matter (one on its way is answered first)
    queue = queue.filter(function (it) { return it.row !== tr || it.attempted; });
    $$("[data-save]", tr).forEach(function (f) { setState(f, null); });
    tr.classList.add("removing");
    queue.push(item);
    pump();
  }

  function removeAnswered(item, status, text) {
    if (status === 200) { item.row.remove(); renumber(); return; }
    item.row.classList.remove("removing");
    merge(text, null, status);
    var answer = fragment(text);
    var message = $(".msg", answer);
    if (message) $("td.actions", item.row).appendChild(message);
  }

  function renumber() {
    $$("#list-body tr[id^='lrow-'] td.serial").forEach(function (td, i) {
      var hidden = $("input", td);
      td.textContent = String(i + 1);
      if (hidden) td.appendChild(hidden);
    });
  }

  // --- the page's word on what is saved ------------------------------------------------------

  // What is not saved, one state per cell or document (a document's fields count once): the worst
  // of its fields' states, refused before failed before on its way.
  var RANK = { refused: 3, failed: 2, saving: 1, queued: 1 };
  function unsaved() {
    var by = {};
    $$("[data-save][data-state]").forEach(function (el) {
      var st = el.getAttribute("data-state"), key = keyOf(el);
      if (RANK[st] && (!by[key] || RANK[st] > RANK[by[key]])) by[key] = st;
    });
    return Object.keys(by).map(function (k) { return by[k]; });
  }

  function render() {
    var box = document.getElementById("save-status");
    if (!box) return;
    var waiting = unsaved();  // queued, saving, failed or refused
    var count = function (st) { return waiting.filter(function (w) { return w === st; }).length; };
    var refused = count("refused"), failed = count("failed");
    var moving = waiting.length - refused - failed;
    var docs = $$("tr.pending-row, tr.refused-row").length;
    var what = box.getAttribute("data-noun") ? " " + box.getAttribute("data-noun") : $("[data-row]") || $("tr.new-row") ? " văn bản" : " ô";
    var parts = [];
    if (moving) parts.push("đang lưu " + moving + what);
    if (failed) parts.push(failed + what + " chưa lưu được" + (blocked ? "" : " (sẽ tự gửi lại)"));
    if (refused) parts.push(refused + what + " bị từ chối, xem lời nhắn bên cạnh");
    if (docs) parts.push(docs + " văn bản chưa thêm xong");
    box.textContent = parts.length ? "Chưa lưu hết: " + parts.join("; ") + "." : "Đã lưu tất cả.";
    var docsRefused = $$("tr.refused-row").length;
    box.className = "save-status" + (failed || refused || docsRefused ? " problem" : (moving || docs ? " busy" : ""));
    box.setAttribute("data-unsaved", String(waiting.length + docs));
    box.hidden = false;
  }

  function showProblem(text) {
    var box = document.getElementById("request-failed");
    if (box) { box.textContent = text; box.hidden = false; }
  }

  function hideProblem() {
    var box = document.getElementById("request-failed");
    if (box && !blocked) box.hidden = true;
  }

  // --- keyboard as in Excel ------------------------------------------------------------------

  function editable(table) {
    return $$("input.cell[data-save], select.cell[data-save]", table).filter(function (el) { return !el.readOnly; });
  }

  // Enter goes down the column and, past its last row, to the top of the next column; Shift+Enter
  // goes up and, past the first row, to the bottom of the previous column.
  function move(from, step) {
    var cells = editable(from.closest("table"));
    var columns = [];
    cells.forEach(function (c) { var k = c.getAttribute("data-col"); if (columns.indexOf(k) < 0) columns.push(k); });
    var col = from.getAttribute("data-col");
    var same = cells.filter(function (c) { return c.getAttribute("data-col") === col; });
    var target = same[same.indexOf(from) + step];
    if (!target) {
      var next = columns[columns.indexOf(col) + step];
      var those = cells.filter(function (c) { return c.getAttribute("data-col") === next; });
      target = step > 0 ? those[0] : those[those.length - 1];
    }
    if (target) { target.focus(); if (target.select) target.select(); }
    else {  // the last cell: Enter saves it where it is, ready to be typed over
      if (fieldsOf(from).some(needsSave)) enqueue(from);
      if (from.select) from.select();
    }
  }

  document.addEventListener("keydown", function (evt) {
    var el = evt.target;
    if (!el.classList || !el.classList.contains("cell") || isRich(el)) return;  // a text keeps its Enter and Esc
    var newRow = el.closest("tr.new-row");
    if (evt.key === "Enter" && newRow && !evt.isComposing) {
      evt.preventDefault();
      addDocument(newRow);
    } else if (evt.key === "Enter" && isSaveInput(el) && !evt.isComposing) {
      evt.preventDefault();
      move(el, evt.shiftKey ? -1 : 1);
    } else if (evt.key === "Escape" && isSaveInput(el)) {  // back to the stored value (this field only)
      evt.preventDefault();
      var key = keyOf(el);
      if (!el.getAttribute("data-row")) queue = queue.filter(function (it) { return it.key !== key || it.attempted; });
      el.value = target(el);
      var last = latest(key);
      if (!last && el.getAttribute("data-state") === "refused") {
        var td = el.closest("td");
        $$(".msg.error", td).forEach(function (m) { m.remove(); });
        td.classList.remove("has-error");
        el.removeAttribute("aria-invalid");
      }
      if (!el.getAttribute("data-row")) setState(el, last ? (last === inFlight ? "saving" : "failed") : null);
      if (el.select) el.select();
      render();
    }
  });

  // A click that brings the focus into a grid cell selects its value, as a click in Excel does:
  // typing then replaces the figure (with the caret dropped before "21", typing 35 stored 3521).
  // A second click in the cell places the caret, to edit the figure in place.
  var focusedByClick = null;
  document.addEventListener("mousedown", function (evt) {
    var el = evt.target;
    focusedByClick = isSaveInput(el) && el.tagName === "INPUT" && !el.getAttribute("data-row")
      && document.activeElement !== el ? el : null;
  });

  document.addEventListener("click", function (evt) {
    if (focusedByClick && evt.target === focusedByClick && document.activeElement === focusedByClick) {
      focusedByClick.select();
    }
    focusedByClick = null;
    var add = evt.target.closest && evt.target.closest("button[data-add]");
    if (add) { evt.preventDefault(); addDocument(add.closest("tr")); return; }
    var remove = evt.target.closest && evt.target.closest("button[data-remove]");
    if (remove) { evt.preventDefault(); removeDocument(remove); }
  });

  // Leaving a field (or choosing in a list) saves it when it needs saving. For a document, leaving
  // one of its fields for another of the same row waits: the row is sent when the clerk leaves it.
  document.addEventListener("focusout", function (evt) {
    var el = evt.target;
    var tr = el.closest && el.closest("tr[id^='lrow-']");
    if (tr && (tr.classList.contains("removing") || !document.contains(tr))) return;  // going: nothing to save
    if (tr) {  // anything of a document's row (its fields, its Xóa): saved once the focus leaves the row
      var to = evt.relatedTarget;
      if (to && to.closest && to.closest("tr") === tr) return;
      var first = $("[data-save][data-row]", tr);
      if (first && fieldsOf(first).some(needsSave)) enqueue(first);
      return;
    }
    if (isSaveInput(el) && needsSave(el)) enqueue(el);
    else if (isSaveInput(el) && el.getAttribute("data-state") === "failed") retryNow();  // typed again: try now
  });
  document.addEventListener("change", function (evt) {
    var el = evt.target;
    if (isSaveInput(el) && el.tagName === "SELECT" && !el.getAttribute("data-row") && needsSave(el)) enqueue(el);
  });

  window.addEventListener("online", function () {
    if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; }
    retries = 0;
    pump();
  });

  window.addEventListener("beforeunload", function (evt) {
    var active = document.activeElement;
    var typing = isSaveInput(active) && fieldsOf(active).some(needsSave);
    if (unsaved().length || inFlight || queue.length || typing || $$("tr.pending-row, tr.refused-row").length) {
      evt.preventDefault();
      evt.returnValue = "";
    }
  });

  // For an editor that saves as typed (narrative.js): `pending` marks it not saved yet while the
  // clerk types, `save` queues it when it differs from what the server holds (or will hold).
  window.Cells = {
    pending: function (el) { setState(el, "queued"); render(); },
    save: function (el) {
      if (needsSave(el)) enqueue(el);
      else if (!latest(keyOf(el)) && el.getAttribute("data-state") === "queued") setState(el, null);
      render();
    },
    render: render
  };

  // Inputs with data-save are the script's: the whole-table button is for pages without it.
  document.addEventListener("DOMContentLoaded", function () {
    if (!document.getElementById("save-status")) return;
    document.documentElement.classList.add("saves-by-cell");
    render();
  });
})();
