/* Comments, loaded only when wanted.
 *
 * - Listings: one request to Isso for the comment counts of every post on
 *   the page (POST /count), written into the .comment-count spans.
 * - A post: Isso's widget (about 65 KB) loads when the reader scrolls near
 *   the comments, or presses the button; until then the post costs nothing
 *   more. The comments rendered at build time stay until the widget has
 *   fetched the live thread, then it replaces them.
 * - The widget tells the reader what happened. Isso's client (unmodified)
 *   only logs a refused comment or vote to the console; this script watches
 *   its requests to the comment server (Isso uses XMLHttpRequest) and writes
 *   the outcome, in the page's language, in a status line next to the form
 *   or the comment concerned.
 * - One's own comment waiting for moderation stays visible to its writer
 *   after a reload (kept in localStorage, shown as text, marked), until the
 *   thread shows it published or for a week at most.
 *
 * Configuration comes from this script's data attributes, the translated
 * words from the comments section's status line (no inline script: the
 * site's Content-Security-Policy forbids it).
 */
(function () {
  "use strict";

  var script = document.getElementById("comments-script");
  if (!script) {
    return;
  }
  var isso = script.getAttribute("data-isso").replace(/\/+$/, "");
  var lang = script.getAttribute("data-lang") || "it";
  var PENDING_DAYS = 7;

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

  /* ---- Words and status lines ------------------------------------------ */

  var status = document.querySelector("[data-comments-status]");

  function words(name) {
    return (status && status.getAttribute("data-msg-" + name)) || "";
  }

  // A status line of a form or a comment, made once and reused.
  function statusLine(holder) {
    var line = holder.querySelector(":scope > .comments-notice");
    if (!line) {
      line = document.createElement("p");
      line.className = "comments-notice";
      line.setAttribute("role", "status");
      holder.appendChild(line);
    }
    return line;
  }

  function say(line, kind, message) {
    if (!line) {
      return;
    }
    line.setAttribute("data-kind", kind);
    // A line just made is announced once it exists: write on the next frame.
    window.requestAnimationFrame(function () {
      line.textContent = message;
    });
  }

  function commentLine(comment) {
    var wrapper = comment && comment.querySelector(":scope > .isso-text-wrapper");
    return wrapper ? statusLine(wrapper) : status;
  }

  /* ---- What the comment server answered -------------------------------- */

  function parse(text) {
    try {
      return JSON.parse(text);
    } catch (error) {
      return null;
    }
  }

  // A refused write: our server layers answer 403 with {"error": code};
  // Isso's own guard answers 403 with a short HTML page naming the reason.
  function refusal(httpStatus, text) {
    if (httpStatus === 0 || httpStatus >= 500) {
      return "unreachable";
    }
    if (httpStatus === 429) {
      return "ratelimit";
    }
    if (httpStatus === 400 || httpStatus === 413) {
      return /too short/i.test(text) ? "short" : "invalid";
    }
    var body = parse(text);
    var code = body && typeof body.error === "string" ? body.error : "";
    // piazza/isso_guard.py's codes, as this script names its messages.
    code = { "rate-limit": "ratelimit", thread: "refused" }[code] || code;
    if (["spam", "pow", "banned", "ratelimit", "invalid"].indexOf(code) >= 0) {
      return code;
    }
    if (/ratelimit exceeded|direct responses/i.test(text)) {
      return "ratelimit";
    }
    return "refused";
  }

  var lastPostbox = null;

  function onNew(request, answer) {
    var postbox = lastPostbox;
    var sent = parse(request.body) || {};
    var made = answer.status === 201 || answer.status === 202 ? parse(answer.text) : null;
    if (answer.status === 202 && made) {
      rememberPending(made, sent);
    }
    // Isso acts on the answer in a later task (its promises resolve through
    // setTimeout): look at the page after it has.
    window.setTimeout(function () {
      var line;
      if (postbox && postbox.isConnected) {
        line = statusLine(postbox);
      } else if (made) {
        line = commentLine(document.getElementById("isso-" + made.id));
      } else {
        line = status;
      }
      if (answer.status === 201) {
        say(line, "published", words("published"));
      } else if (answer.status === 202) {
        say(line, "pending", words("pending"));
      } else {
        var kind = refusal(answer.status, answer.text);
        say(line, kind, words(kind));
      }
    }, 0);
  }

  function onVote(request, answer, id) {
    var comment = document.getElementById("isso-" + id);
    if (answer.status !== 200) {
      say(commentLine(comment), "unreachable", words("unreachable"));
      return;
    }
    // Isso counts one vote per address range and none from the comment's
    // author: it then answers the unchanged counts with a "message".
    var body = parse(answer.text);
    if (body && body.message) {
      say(commentLine(comment), "vote", words("vote"));
    }
  }

  function onEdit(request, answer, id) {
    if (answer.status === 200) {
      return;
    }
    var kind = refusal(answer.status, answer.text);
    say(commentLine(document.getElementById("isso-" + id)), kind, words(kind));
  }

  function onRead(request, answer) {
    if (answer.status === 0 || answer.status >= 500) {
      say(status, "unreachable", words("unreachable"));
    }
  }

  function outcome(request, answer) {
    var path = request.url.slice(isso.length).split("?")[0];
    var match;
    if (request.method === "POST" && path === "/new") {
      onNew(request, answer);
    } else if (request.method === "POST" && (match = path.match(/^\/id\/(\d+)\/(like|dislike)$/))) {
      onVote(request, answer, match[1]);
    } else if (request.method === "PUT" && (match = path.match(/^\/id\/(\d+)$/))) {
      onEdit(request, answer, match[1]);
    } else if (request.method === "GET" && (path === "/" || path === "")) {
      onRead(request, answer);
    } else if (request.method === "POST" && path === "/preview" && answer.status !== 200) {
      say(lastPostbox ? statusLine(lastPostbox) : status, "unreachable", words("unreachable"));
    }
  }

  // Learn the outcome of Isso's requests without changing them.
  function watchRequests() {
    var base = new URL(isso + "/", location.href).href;
    var requests = new WeakMap();
    var proto = XMLHttpRequest.prototype;
    var open = proto.open;
    var send = proto.send;
    proto.open = function (method, url) {
      var absolute = "";
      try {
        absolute = new URL(String(url), location.href).href;
      } catch (error) {
        /* Not ours to judge: XMLHttpRequest's own open() will say. */
      }
      if (absolute && absolute.indexOf(base) === 0) {
        requests.set(this, {
          method: String(method).toUpperCase(),
          url: isso + "/" + absolute.slice(base.length),
        });
      } else {
        requests.delete(this);
      }
      return open.apply(this, arguments);
    };
    proto.send = function (body) {
      var request = requests.get(this);
      if (request) {
        request.body = typeof body === "string" ? body : "";
        this.addEventListener("loadend", function () {
          outcome(request, { status: this.status, text: this.responseText || "" });
        });
      }
      return send.apply(this, arguments);
    };
  }

  /* ---- One's own comments waiting for moderation ------------------------ */

  function pendingKey() {
    var thread = document.getElementById("isso-thread");
    return "piazza-pending:" + (thread ? thread.getAttribute("data-isso-id") : location.pathname);
  }

  function readPending() {
    try {
      var list = JSON.parse(window.localStorage.getItem(pendingKey()) || "[]");
      return Array.isArray(list) ? list : [];
    } catch (error) {
      return [];
    }
  }

  function writePending(list) {
    try {
      if (list.length) {
        window.localStorage.setItem(pendingKey(), JSON.stringify(list));
      } else {
        window.localStorage.removeItem(pendingKey());
      }
    } catch (error) {
      /* Storage full or refused: the copy is only a courtesy. */
    }
  }

  function rememberPending(made, sent) {
    var list = readPending().filter(function (item) {
      return item.id !== made.id;
    });
    list.push({
      id: made.id,
      parent: made.parent || null,
      author: sent.author || "",
      text: typeof sent.text === "string" ? sent.text : "",
      saved: Date.now(),
    });
    writePending(list);
  }

  // After the live thread is in: show what still waits, as text, marked;
  // forget what the thread now shows and what is older than a week.
  function showPending(thread) {
    var oldest = Date.now() - PENDING_DAYS * 24 * 3600 * 1000;
    var kept = readPending().filter(function (item) {
      return item && typeof item.id === "number" && item.saved > oldest &&
        !document.getElementById("isso-" + item.id);
    });
    writePending(kept);
    var root = thread.querySelector("#isso-root") || thread;
    kept.forEach(function (item) {
      if (document.getElementById("comments-pending-" + item.id)) {
        return;
      }
      var box = document.createElement("div");
      box.className = "comments-pending";
      box.id = "comments-pending-" + item.id;
      var header = document.createElement("p");
      header.className = "comments-pending__header";
      var who = document.createElement("span");
      who.className = "comments-pending__author";
      who.textContent = item.author || words("anonymous");
      var note = document.createElement("span");
      note.className = "comments-pending__note";
      note.textContent = words("waiting");
      header.append(who, note);
      var text = document.createElement("p");
      text.className = "comments-pending__text";
      text.textContent = item.text;
      box.append(header, text);
      var parent = item.parent && document.querySelector("#isso-" + item.parent + " > .isso-follow-up");
      (parent || root).appendChild(box);
    });
  }

  /* ---- The widget -------------------------------------------------------- */

  // Status lines of the forms exist before anything is said in them, and
  // a submit with too short a text (Isso then only moves the focus) says why.
  function watchForms(thread) {
    thread.addEventListener(
      "click",
      function (event) {
        var target = event.target;
        var postbox = target.closest && target.closest(".isso-postbox");
        if (!postbox) {
          return;
        }
        lastPostbox = postbox;
        if (target.matches("input[type=submit]")) {
          var textarea = postbox.querySelector(".isso-textarea");
          if (textarea && textarea.value.length < 3) {
            say(statusLine(postbox), "short", words("short"));
          }
        }
      },
      true
    );
    new MutationObserver(function () {
      thread.querySelectorAll(".isso-postbox").forEach(function (postbox) {
        statusLine(postbox);
      });
    }).observe(thread, { childList: true, subtree: true });
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
        showPending(thread);
        if (status && status.getAttribute("data-kind") === "unreachable") {
          status.textContent = "";
          status.removeAttribute("data-kind");
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
    // Isso's words replaced by ours, in the page's language (Isso reads
    // data-isso-<message>-text-<lang>): its placeholders are English
    // everywhere, its Italian "Cancella" would read as "delete", and a
    // comment waiting for moderation reads the same before and after a reload.
    [
      ["postbox-author-placeholder", "author"],
      ["postbox-email-placeholder", "email"],
      ["postbox-website-placeholder", "website"],
      ["comment-cancel", "cancel"],
      ["comment-queued", "waiting"],
    ].forEach(function (pair) {
      if (words(pair[1])) {
        embed.setAttribute("data-isso-" + pair[0] + "-text-" + lang, words(pair[1]));
      }
    });
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
      embed.remove();
      thread.removeAttribute("data-loading");
      if (button) {
        button.disabled = false;
      }
      say(status, "unreachable", words("unreachable"));
    };
    document.body.appendChild(embed);
    // The proof of work the comment server asks before a post
    // (comments-pow.js, piazza/isso_guard.py).
    if (script.getAttribute("data-pow")) {
      var pow = document.createElement("script");
      pow.src = script.getAttribute("data-pow");
      pow.setAttribute("data-isso", isso);
      document.body.appendChild(pow);
    }
  }

  function setUpThread() {
    var thread = document.getElementById("isso-thread");
    if (!thread) {
      return;
    }
    watchRequests();
    watchForms(thread);
    var button = document.querySelector("[data-comments-load]");
    if (button) {
      // Hidden in the HTML: without JavaScript it could do nothing.
      button.parentNode.hidden = false;
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
