/* Comments, loaded only when wanted.
 *
 * - Listings: one request to Isso for the comment counts of every post on
 *   the page (POST /count), written into the .comment-count spans.
 * - A post: Isso's widget (about 65 KB) loads when the reader scrolls near
 *   the comments, or presses the button; until then the post costs nothing
 *   more. The comments rendered at build time stay until the widget has
 *   fetched the live thread, then it replaces them.
 *
 * Configuration comes from this script's data attributes (no inline script:
 * the site's Content-Security-Policy forbids it).
 */
(function () {
  "use strict";

  var script = document.getElementById("comments-script");
  if (!script) {
    return;
  }
  var isso = script.getAttribute("data-isso").replace(/\/+$/, "");
  var lang = script.getAttribute("data-lang") || "it";

  function showCounts() {
    var spans = document.querySelectorAll(".comment-count[data-isso-id]");
    if (!spans.length || !window.fetch) {
      return;
    }
    var uris = [];
    spans.forEach(function (span) {
      var uri = span.getAttribute("data-isso-id");
      if (uris.indexOf(uri) < 0) {
        uris.push(uri);
      }
    });
    fetch(isso + "/count", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(uris),
    })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (counts) {
        if (!counts) {
          return;
        }
        spans.forEach(function (span) {
          var count = counts[uris.indexOf(span.getAttribute("data-isso-id"))];
          if (typeof count !== "number") {
            return;
          }
          span.textContent =
            count === 1
              ? script.getAttribute("data-one")
              : script.getAttribute("data-many").replace("{n}", String(count));
          span.hidden = count === 0;
        });
      })
      .catch(function () {
        /* Isso unreachable: the counts from the build stay. */
      });
  }

  function loadWidget(thread, button) {
    if (thread.hasAttribute("data-loading")) {
      return;
    }
    thread.setAttribute("data-loading", "");
    if (button) {
      button.disabled = true;
    }
    var section = thread.closest(".comments");
    var staticCopy = section && section.querySelector("[data-comments-static]");
    // Isso writes the thread's heading once it has fetched the live thread:
    // that is when the snapshot can go.
    var observer = new MutationObserver(function () {
      var heading = thread.querySelector(".isso-thread-heading");
      if (heading && heading.textContent.trim()) {
        observer.disconnect();
        if (staticCopy) {
          staticCopy.remove();
        }
        if (button) {
          button.parentNode.hidden = true;
        }
        thread.removeAttribute("data-loading");
        thread.setAttribute("data-loaded", "");
      }
    });
    observer.observe(thread, { childList: true, subtree: true, characterData: true });

    var embed = document.createElement("script");
    embed.src = isso + "/js/embed.min.js";
    embed.async = true;
    embed.setAttribute("data-isso", isso + "/");
    embed.setAttribute("data-isso-lang", lang);
    embed.setAttribute("data-isso-css", "false");
    embed.setAttribute("data-isso-avatar", "false");
    embed.setAttribute("data-isso-vote", "true");
    embed.setAttribute("data-isso-reply-notifications-default-enabled", "false");
    var hashes = script.getAttribute("data-hashes");
    if (hashes) {
      embed.setAttribute("data-isso-page-author-hashes", hashes);
      // Isso's label for the author's comments, in our words and language.
      embed.setAttribute(
        "data-isso-comment-page-author-suffix-text-" + lang,
        script.getAttribute("data-author")
      );
    }
    embed.onerror = function () {
      observer.disconnect();
      thread.removeAttribute("data-loading");
      if (button) {
        button.disabled = false;
      }
    };
    document.body.appendChild(embed);
    if (script.getAttribute("data-pow")) { var pow = document.createElement("script"); pow.src = script.getAttribute("data-pow"); pow.setAttribute("data-isso", isso); document.body.appendChild(pow); } // proof of work (comments-pow.js)
  }

  function setUpThread() {
    var thread = document.getElementById("isso-thread");
    if (!thread) {
      return;
    }
    var button = document.querySelector("[data-comments-load]");
    if (button) {
      button.addEventListener("click", function () {
        loadWidget(thread, button);
      });
    }
    if (location.hash.indexOf("#isso-") === 0 || location.hash === "#comments") {
      loadWidget(thread, button);
      return;
    }
    if ("IntersectionObserver" in window) {
      var watcher = new IntersectionObserver(
        function (entries) {
          if (entries.some(function (entry) { return entry.isIntersecting; })) {
            watcher.disconnect();
            loadWidget(thread, button);
          }
        },
        { rootMargin: "200px 0px" }
      );
      watcher.observe(thread.closest(".comments") || thread);
    }
  }

  showCounts();
  setUpThread();
})();
