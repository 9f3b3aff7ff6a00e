// The narrative report's editors: each form.narrative-form (a text box and its button, which work
// without JavaScript) becomes a small rich-text editor (pell, vendored: bold, italics, bulleted and
// numbered lists) that saves as typed through cells.js's queue: the same states, retries on a broken
// link, warning before leaving with text not saved, and conflicts shown with the text now stored.
//
// A save goes out when the clerk pauses (DEBOUNCE_MS), leaves the editor, or leaves the page.
// Pasted HTML (Word's) is reduced to the tags the server keeps before it is inserted; the server
// cleans every text again whatever arrives. On the compiler's page each answer has a "Trích" button
// that inserts it (or the part of it selected) into the draft, after the unit's name.
(function () {
  "use strict";

  var DEBOUNCE_MS = 700;
  var ACTIONS = [
    { name: "bold", title: "Chữ đậm (Ctrl+B)" },
    { name: "italic", title: "Chữ nghiêng (Ctrl+I)" },
    { name: "ulist", title: "Danh sách gạch đầu dòng" },
    { name: "olist", title: "Danh sách đánh số" }
  ];
  // What survives a paste: the server's allow-list (webapp/domain/richtext.py), without attributes.
  var KEPT = { P: 1, BR: 1, STRONG: 1, B: 1, EM: 1, I: 1, U: 1, UL: 1, OL: 1, LI: 1, BLOCKQUOTE: 1 };
  var DROPPED = { SCRIPT: 1, STYLE: 1, XML: 1, HEAD: 1, TITLE: 1, TEMPLATE: 1, NOSCRIPT: 1, OBJECT: 1,
                  IFRAME: 1, SVG: 1, MATH: 1, TEXTAREA: 1, SELECT: 1, META: 1, LINK: 1 };

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  function mount(form) {
    var textarea = $("textarea[name='value']", form);
    var box = document.createElement("div");
    box.className = "editor";
    form.insertBefore(box, textarea);
    var content;
    window.pell.init({
      element: box, actions: ACTIONS, defaultParagraphSeparator: "p",
      onChange: function () { typed(content); }
    });
    content = box.content;
    $$(".pell-button", box).forEach(function (b) { b.setAttribute("aria-label", b.title); });
    content.innerHTML = textarea.value;
    content.id = "text-" + form.id;
    content.classList.add("cell", "rich");
    content.setAttribute("data-key", form.id);
    content.setAttribute("data-save", form.action);
    content.setAttribute("role", "textbox");
    content.setAttribute("aria-multiline", "true");
    content.setAttribute("aria-label", form.getAttribute("data-label"));
    // cells.js reads and writes a field's `value`, and its stored value from `defaultValue`
    Object.defineProperty(content, "value", {
      get: function () { return content.innerHTML; }, set: function (v) { content.innerHTML = v; }
    });
    content.defaultValue = content.innerHTML;
    textarea.hidden = true;
    $$(".no-js", form).forEach(function (n) { n.hidden = true; });
    form.addEventListener("submit", function (evt) { evt.preventDefault(); });
    content.addEventListener("paste", pasted);
    content.addEventListener("cells:answer", answered);
  }

  function typed(content) {
    clearTimeout(content._timer);
    window.Cells.pending(content);
    content._timer = setTimeout(function () { content._timer = null; window.Cells.save(content); }, DEBOUNCE_MS);
  }

  function flush(content) {
    if (!content._timer) return;
    clearTimeout(content._timer);
    content._timer = null;
    window.Cells.save(content);
  }

  function fragment(html) {
    var t = document.createElement("template");
    t.innerHTML = html;
    return t.content;
  }

  // The server's word on a save (after cells.js set the editor's state): the version moves on;
  // a 409 puts the text now stored in the editor and keeps what was typed below it, to use again.
  function answered(evt) {
    var content = evt.target, form = content.closest("form"), d = evt.detail;
    var saved = $(".saved", fragment(d.text));
    if (!saved) return;
    $$(".msg, .stored-text", form).forEach(function (n) { n.remove(); });
    if (d.status === 200 || d.status === 409) $("input[name='v:text']", form).value = saved.getAttribute("data-version");
    var stored = $("template", saved) ? $("template", saved).innerHTML : "";
    if (d.status === 200) {
      // shown as stored (cleaned) once the clerk is elsewhere and has not typed since
      if (content !== document.activeElement && content.innerHTML === d.sent && stored !== d.sent) content.innerHTML = stored;
      content._saved = content.innerHTML === d.sent ? stored : content.innerHTML;
      if (content._timer) window.Cells.pending(content);  // typed since: still waiting
      return;
    }
    var message = $(".msg", saved);
    if (message) form.insertBefore(message, content.parentNode.nextSibling);
    if (d.status !== 409) return;
    var mine = content.innerHTML;
    clearTimeout(content._timer);
    content._timer = null;
    content.innerHTML = stored;
    content._saved = content.innerHTML;
    content.setAttribute("data-state", "conflict");
    var box = document.createElement("div");
    box.className = "stored-text";
    var label = document.createElement("p");
    label.className = "muted";
    label.textContent = "Nội dung bạn đã gõ (chưa được lưu):";
    var text = document.createElement("div");
    text.className = "answer-text";
    text.innerHTML = mine;
    var again = document.createElement("button");
    again.type = "button";
    again.textContent = "Dùng lại nội dung của tôi";
    again.addEventListener("click", function () {
      content.innerHTML = mine;
      box.remove();
      typed(content);
    });
    box.appendChild(label);
    box.appendChild(text);
    box.appendChild(again);
    form.insertBefore(box, message ? message.nextSibling : content.parentNode.nextSibling);
    window.Cells.render();
  }

  // --- pasting -----------------------------------------------------------------------------------

  function cleaned(html) {
    // parsed inert in a <template>
    // the page's CSP refuses style="" and on…="" even in an inert parse (a console error for each):
    // every attribute goes first, none is kept anyway
    var body = html.replace(/^[\s\S]*?<body[^>]*>/i, "").replace(/<\/body>[\s\S]*$/i, "")
      .replace(/<style[\s\S]*?<\/style>/gi, "")
      .replace(/<([a-zA-Z][\w:-]*)(?:\s+[^\s=>\/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*\s*(\/?)>/g, "<$1$2>");
    var out = document.createElement("div");
    copy(fragment(body), out);
    return out.innerHTML;
  }

  function copy(from, to) {
    Array.prototype.slice.call(from.childNodes).forEach(function (node) {
      if (node.nodeType === 3) { to.appendChild(document.createTextNode(node.nodeValue)); return; }
      if (node.nodeType !== 1) return;  // comments (Word's conditional ones too)
      var tag = node.tagName.toUpperCase();
      if (DROPPED[tag]) return;
      if (KEPT[tag]) { copy(node, to.appendChild(document.createElement(tag.toLowerCase()))); return; }
      copy(node, to);  // any other element (span, font, o:p, div, a…): its content only
    });
  }

  function pasted(evt) {
    var data = evt.clipboardData;
    var html = data && data.getData("text/html");
    if (!html) return;  // plain text: the browser inserts it as text
    evt.preventDefault();
    var content = evt.target.closest ? evt.target.closest(".rich") : null;
    var sel = window.getSelection();
    insert(content, cleaned(html), sel.rangeCount ? sel.getRangeAt(0) : null);
  }

  // Put cleaned ``html`` into ``content`` at ``range`` (or at its end): paragraphs and lists after the
  // block the caret is in (an empty one is replaced), text at the caret; the caret after it. Through
  // the DOM, not execCommand("insertHTML"), which adds style="" attributes the CSP refuses.
  var BLOCK = /^<(p|ul|ol|blockquote)[ >]/i;
  function insert(content, html, range) {
    var frag = fragment(html), last = frag.lastChild, sel = window.getSelection();
    if (!last) return;
    if (range && !content.contains(range.commonAncestorContainer)) range = null;
    if (BLOCK.test(html)) {
      var anchor = null;
      if (range) {
        anchor = range.endContainer;
        if (anchor === content) anchor = content.childNodes[Math.max(0, range.endOffset - 1)] || null;
        while (anchor && anchor.parentNode !== content) anchor = anchor.parentNode;
      } else {
        anchor = content.lastChild;
      }
      if (range) range.deleteContents();
      if (anchor && !anchor.textContent.trim() && anchor.nodeType === 1) { content.replaceChild(frag, anchor); }
      else if (anchor) content.insertBefore(frag, anchor.nextSibling);
      else content.appendChild(frag);
    } else {
      if (!range) { range = document.createRange(); range.selectNodeContents(content); range.collapse(false); }
      range.deleteContents();
      range.insertNode(frag);
    }
    var after = document.createRange();
    after.selectNodeContents(last.nodeType === 1 ? last : last.parentNode);
    after.collapse(false);
    sel.removeAllRanges();
    sel.addRange(after);
    typed(content);
  }

  // --- quoting an answer into the draft ------------------------------------------------------------

  var draftRange = null;
  document.addEventListener("selectionchange", function () {
    var draft = $("#draft .rich"), sel = window.getSelection();
    if (draft && sel.rangeCount && draft.contains(sel.getRangeAt(0).commonAncestorContainer)) {
      draftRange = sel.getRangeAt(0).cloneRange();
    }
  });

  function quote(button) {
    var draft = $("#draft .rich");
    var answer = $(".answer-text", button.closest(".answer-card"));
    if (!draft || !answer) return;
    var sel = window.getSelection(), html = answer.innerHTML;
    if (sel.rangeCount && !sel.isCollapsed && answer.contains(sel.getRangeAt(0).commonAncestorContainer)) {
      var part = document.createElement("div");
      part.appendChild(sel.getRangeAt(0).cloneContents());
      html = cleaned(part.innerHTML);
    }
    var name = document.createElement("strong");
    name.textContent = button.getAttribute("data-unit") + ":";
    if (!BLOCK.test(html)) html = "<p>" + html + "</p>";
    draft.focus();
    var range = draftRange && draft.contains(draftRange.commonAncestorContainer) ? draftRange : null;
    if (range) range.collapse(false);  // after what is selected in the draft, never over it
    insert(draft, "<p>" + name.outerHTML + "</p>" + html, range);
  }

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("button[data-quote]");
    if (button) { evt.preventDefault(); quote(button); }
  });

  // Leaving the page: what waits for the pause goes now (cells.js asks first while anything is unsaved).
  window.addEventListener("beforeunload", function () { $$(".rich").forEach(flush); }, true);
  window.addEventListener("pagehide", function () { $$(".rich").forEach(flush); });

  document.addEventListener("DOMContentLoaded", function () {
    $$("form.narrative-form[data-editor]").forEach(mount);
  });
})();
