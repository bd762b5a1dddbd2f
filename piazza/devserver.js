// The development server's script (never in a built site): it reloads the
// page after each successful build, and shows a failed build's error over the
// last good page until the file is fixed.
(function () {
  "use strict";
  var generation = null;
  var panel = null;
  // This page as served, to reload only when a build changed it (the whole
  // site is rebuilt after the changed post's pages: most pages stay as they are).
  var served = null;
  function fetchPage() {
    return fetch(location.href, { cache: "no-store" })
      .then(function (response) { return response.text(); });
  }
  if (!document.documentElement.dataset.piazzaDev) {
    fetchPage().then(function (text) { served = text; }).catch(function () {});
  }

  function hide() {
    if (panel) {
      panel.remove();
      panel = null;
    }
  }

  function line(tag, text, style) {
    var element = document.createElement(tag);
    element.textContent = text;
    Object.assign(element.style, style || {});
    return element;
  }

  // The page's words, in its language (the theme's catalog, by the server).
  var strings = null;
  function withStrings(then) {
    if (strings) { then(strings); return; }
    var lang = encodeURIComponent(document.documentElement.lang || "");
    fetch("/__piazza__/strings?lang=" + lang, { cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (loaded) { strings = loaded; then(strings); })
      .catch(function () {});
  }

  function show(error) {
    withStrings(function (words) { render(error, words); });
  }

  function render(error, words) {
    hide();
    panel = document.createElement("section");
    panel.id = "piazza-dev-error";
    panel.setAttribute("role", "alert");
    Object.assign(panel.style, {
      position: "fixed", inset: "0", zIndex: "2147483647", overflow: "auto",
      background: "#fff", color: "#111", padding: "2rem",
      font: "16px/1.5 system-ui, sans-serif",
    });
    panel.appendChild(line("h1", words.failed, {
      color: "#a00", fontSize: "1.5rem", margin: "0 0 1rem",
    }));
    if (error.file) {
      var where = error.file + (error.line ? ":" + error.line : "");
      panel.appendChild(line("p", where, { fontWeight: "bold", fontFamily: "monospace" }));
    }
    panel.appendChild(line("pre", error.message, {
      whiteSpace: "pre-wrap", background: "#fee", padding: "1rem",
    }));
    panel.appendChild(line("p", words.serving + " " + words.fix));
    var close = line("button", words.dismiss, { marginTop: "1rem" });
    close.type = "button";
    close.addEventListener("click", hide);
    panel.appendChild(close);
    document.body.appendChild(panel);
  }

  function reloadIfChanged() {
    var hadError = panel !== null;
    fetchPage().then(function (text) {
      if (served === null || text !== served || hadError) {
        location.reload();
      } else {
        poll();
      }
    }).catch(function () { location.reload(); });
  }

  function poll() {
    var since = generation === null ? -1 : generation;
    fetch("/__piazza__/status?since=" + since, { cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (status) {
        var changed = generation !== null && status.generation !== generation;
        generation = status.generation;
        // A page of the dev server itself ("building", "error") stands in
        // for the site until a build succeeds.
        var standalone = document.documentElement.dataset.piazzaDev;
        if (status.error) {
          if (standalone) {
            if (changed) { location.reload(); return; }
          } else {
            show(status.error);
          }
        } else if (standalone ? status.ready : changed) {
          reloadIfChanged();
          return;
        } else {
          hide();
        }
        poll();
      })
      .catch(function () { setTimeout(poll, 1000); });
  }

  poll();
})();
