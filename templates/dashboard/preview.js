// The create form's live preview: on input, 300 ms after the last key,
// the form is posted to its data-preview-action and the answer (the
// preview card's contents: the options, or why there are none) replaces
// the card's. Only the answer to the latest request is shown (an older
// one is aborted and, if it still lands, ignored). Without this script
// the "Preview the options" button does the same with a page load.
(function () {
  var form = document.querySelector("form[data-preview-action]");
  var card = form && form.querySelector('[data-preview="options"]');
  if (!card || !window.fetch || !window.URLSearchParams || !window.FormData) return;
  var timer = 0, seq = 0, sent = "", ctl = null;
  card.hidden = false;
  function show(n, html) {
    if (n !== seq) return; // a newer request is on its way
    if (html === null) {
      sent = ""; // the same form may be tried again
      card.textContent = "";
      var p = document.createElement("p");
      p.textContent = card.getAttribute("data-preview-failed");
      card.appendChild(p);
    } else {
      card.innerHTML = html;
    }
    card.removeAttribute("aria-busy");
  }
  function run() {
    var body = new URLSearchParams(new FormData(form)).toString();
    if (body === sent) return;
    sent = body;
    var n = ++seq;
    if (ctl) ctl.abort();
    ctl = window.AbortController ? new AbortController() : null;
    card.setAttribute("aria-busy", "true");
    fetch(form.getAttribute("data-preview-action"), {
      method: "POST", body: body, credentials: "same-origin", redirect: "manual",
      headers: {"Content-Type": "application/x-www-form-urlencoded"},
      signal: ctl ? ctl.signal : undefined
    }).then(function (r) {
      if (!r.ok) throw r; // signed out (a redirect), refused, or failed
      return r.text();
    }).then(function (html) { show(n, html); }, function () { show(n, null); });
  }
  function later() {
    clearTimeout(timer);
    timer = setTimeout(run, 300);
  }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
})();
