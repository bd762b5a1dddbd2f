/* Supporting and proposing ideas, on the board's pages.
 *
 * The page (plugins/ideaboard's templates) holds the ideas inside
 * `.ideas-board[data-ideas-api]`, each an `article[data-idea-id]` with its
 * counts in `[data-count]` spans and a `form.idea-vote`; the proposal form
 * is `form.idea-propose`. This script:
 *
 * - refreshes the counts with one request (GET <api>/counts?ids=...),
 *   silently: a number that changes is not news to announce;
 * - asks once who this browser is (GET <api>/me): the ideas it supports
 *   (their buttons pressed), the votes it has left, its confirmed e-mail;
 * - supports (POST <api>/ideas/N/vote, after the proof of work of
 *   ideas-pow.js) and withdraws (DELETE), proposes an idea (POST
 *   <api>/ideas), asks for an e-mail confirmation link (POST <api>/me/email),
 *   and says what happened, or why not, in a status line next to the idea
 *   or the form (role=status), in the page's language.
 *
 * The words come from the data-msg-* attributes of `[data-ideas-words]`
 * (theme/templates/partials/ideas_widget.html, translated by gettext at
 * build time): no inline script, the site's Content-Security-Policy
 * forbids it. Each error code of the service (services/ideas/app.py) has
 * its own message, `data-msg-error-<code>`.
 */
(function () {
  "use strict";

  var board = document.querySelector(".ideas-board[data-ideas-api]");
  if (!board || !window.fetch || !window.Promise) {
    return;
  }
  var api = board.getAttribute("data-ideas-api").replace(/\/+$/, "");
  var lang = board.getAttribute("data-lang") || document.documentElement.lang || "it";
  var wordsBox = document.querySelector("[data-ideas-words]");
  // The service's limits (services/ideas/rules.py; tests/test_ideas_widget.py
  // checks they agree).
  var LIMITS = { title: 140, description: 8000, name: 80, email: 254 };
  var EMAIL = /^[^@\s<>"',;]+@[^@\s<>"',;]+\.[^@\s<>"',;]+$/;
  var MAX_COUNT_IDS = 200;
  var ERRORS = [
    "pow_missing", "pow_invalid", "pow_expired", "pow_replayed",
    "forged_cookie", "unknown_voter", "unknown_idea", "no_voter", "closed",
    "budget_spent", "too_large", "limit", "invalid", "unavailable",
    "mail_failed", "network", "unsupported", "unsolved",
  ];
  var budget = null; // {total, used, left} once the service said

  /* ---- Words and status lines ------------------------------------------ */

  function words(name, values) {
    var text = (wordsBox && wordsBox.getAttribute("data-msg-" + name)) || "";
    return text.replace(/\{(\w+)\}/g, function (whole, key) {
      return values && key in values ? String(values[key]) : whole;
    });
  }

  function errorWords(code) {
    return words("error-" + (ERRORS.indexOf(code) >= 0 ? code : "other"));
  }

  // "You have 7 of 10 votes left": one form for 1, one for the others
  // (Italian and English plurals), one for none left.
  function budgetWords(held) {
    if (!held) {
      return "";
    }
    var values = { left: held.left, total: held.total };
    if (held.left === 0) {
      return words("budget-none", values);
    }
    return words(held.left === 1 ? "budget-one" : "budget-many", values);
  }

  // The status line after ``holder`` (an idea's form, a form), made once.
  function statusLine(holder) {
    var line = holder.nextElementSibling;
    if (!line || !line.classList.contains("ideas-notice")) {
      line = document.createElement("p");
      line.className = "ideas-notice";
      line.setAttribute("role", "status");
      holder.parentNode.insertBefore(line, holder.nextSibling);
    }
    return line;
  }

  function say(line, kind, message) {
    line.setAttribute("data-kind", kind);
    // A line just made is announced once it exists: write on the next frame.
    window.requestAnimationFrame(function () {
      line.textContent = message;
    });
  }

  /* ---- Talking to the service ------------------------------------------ */

  function failure(code) {
    var error = new Error(code);
    error.code = code;
    return error;
  }

  function parse(text) {
    try {
      return JSON.parse(text);
    } catch (error) {
      return null;
    }
  }

  // The service's answer as {status, body}; a refusal rejects with the
  // service's error code (or one named after the HTTP status when nginx
  // answered for it: too large, too many, the service down).
  function call(method, path, body) {
    var options = {
      method: method,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(api + path, options).then(
      function (response) {
        return response.text().then(function (text) {
          var data = parse(text);
          if (response.ok) {
            return { status: response.status, body: data || {} };
          }
          var code = data && typeof data.error === "string" ? data.error : "";
          if (!code) {
            code = { 413: "too_large", 429: "limit" }[response.status] || "network";
          }
          var error = failure(code);
          error.detail = data && typeof data.message === "string" ? data.message : "";
          throw error;
        });
      },
      function () {
        throw failure("network");
      }
    );
  }

  function proof() {
    if (!window.PiazzaPow) {
      return Promise.reject(failure("unsupported"));
    }
    return window.PiazzaPow.solve(api);
  }

  /* ---- Counts and this browser's support -------------------------------- */

  function articles(number) {
    var selector = "article[data-idea-id]";
    if (number !== undefined) {
      selector = 'article[data-idea-id="' + String(number) + '"]';
    }
    return Array.prototype.slice.call(document.querySelectorAll(selector));
  }

  function showCounts(number, counts) {
    articles(number).forEach(function (article) {
      ["supporters", "confirmed"].forEach(function (kind) {
        var span = article.querySelector('[data-count="' + kind + '"]');
        if (span && typeof counts[kind] === "number") {
          span.textContent = String(counts[kind]);
        }
      });
    });
  }

  function refreshCounts() {
    var ids = [];
    articles().forEach(function (article) {
      var id = article.getAttribute("data-idea-id");
      if (/^\d+$/.test(id) && ids.indexOf(id) < 0) {
        ids.push(id);
      }
    });
    for (var start = 0; start < ids.length; start += MAX_COUNT_IDS) {
      call("GET", "/counts?ids=" + ids.slice(start, start + MAX_COUNT_IDS).join(","))
        .then(function (answer) {
          var counts = answer.body.counts || {};
          Object.keys(counts).forEach(function (id) {
            showCounts(id, counts[id]);
          });
        })
        .catch(function () {
          /* The service unreachable: the counts from the build stay. */
        });
    }
  }

  function voteButton(form) {
    return form.querySelector("button[type=submit], button:not([type])");
  }

  function showSupport(form, supported) {
    var button = voteButton(form);
    if (!button) {
      return;
    }
    button.setAttribute("aria-pressed", supported ? "true" : "false");
    var label = words(supported ? "withdraw" : "support");
    if (label) {
      button.textContent = label; // else the board's own words stay
    }
  }

  function showBudget(held) {
    budget = held;
    document.querySelectorAll("[data-ideas-budget]").forEach(function (line) {
      line.textContent = budgetWords(held);
      line.hidden = false;
    });
  }

  function showEmail(me) {
    document.querySelectorAll("form.idea-email").forEach(function (form) {
      var done = form.parentNode.querySelector("[data-ideas-confirmed]");
      if (me.confirmed && me.email) {
        form.hidden = true;
        if (done) {
          done.textContent = words("email-confirmed", { email: me.email });
          done.hidden = false;
        }
      } else {
        form.hidden = false;
      }
    });
  }

  function loadMe() {
    call("GET", "/me")
      .then(function (answer) {
        var me = answer.body;
        var mine = (me.ideas || []).map(String);
        document.querySelectorAll("form.idea-vote").forEach(function (form) {
          var article = form.closest("article[data-idea-id]");
          if (article) {
            showSupport(form, mine.indexOf(article.getAttribute("data-idea-id")) >= 0);
          }
        });
        if (me.budget) {
          showBudget(me.budget);
        }
        showEmail(me);
      })
      .catch(function () {
        /* Unknown for now: the buttons still work, the answer will tell. */
      });
  }

  /* ---- Supporting and withdrawing ---------------------------------------- */

  function busy(form, on) {
    form.querySelectorAll("button, input, select, textarea").forEach(function (field) {
      if (on) {
        field.setAttribute("aria-disabled", "true");
      } else {
        field.removeAttribute("aria-disabled");
      }
    });
    if (on) {
      form.setAttribute("data-busy", "");
    } else {
      form.removeAttribute("data-busy");
    }
  }

  function onVote(form, event) {
    event.preventDefault();
    if (form.hasAttribute("data-busy")) {
      return;
    }
    var article = form.closest("article[data-idea-id]");
    var button = voteButton(form);
    if (!article || !button) {
      return;
    }
    var number = article.getAttribute("data-idea-id");
    var line = statusLine(form);
    var withdrawing = button.getAttribute("aria-pressed") === "true";
    busy(form, true);
    var sent;
    if (withdrawing) {
      sent = call("DELETE", "/ideas/" + number + "/vote");
    } else {
      say(line, "working", words("working"));
      sent = proof().then(function (altcha) {
        return call("POST", "/ideas/" + number + "/vote", { altcha: altcha });
      });
    }
    sent
      .then(function (answer) {
        var outcome = answer.body;
        showCounts(number, outcome.counts || {});
        articles(number).forEach(function (each) {
          each.querySelectorAll("form.idea-vote").forEach(function (other) {
            showSupport(other, !!outcome.supported);
          });
        });
        if (outcome.budget) {
          showBudget(outcome.budget);
        }
        var done = words(outcome.supported ? "supported" : "withdrawn");
        say(line, "done", done + " " + budgetWords(outcome.budget || budget));
      })
      .catch(function (error) {
        say(line, "error", errorWords(error.code));
        if (error.code === "no_voter" || error.code === "unknown_voter" ||
            error.code === "forged_cookie") {
          showSupport(form, false);
        }
      })
      .then(function () {
        busy(form, false);
      });
  }

  /* ---- Proposing an idea ------------------------------------------------- */

  function field(form, name) {
    var found = form.elements.namedItem(name);
    return found && typeof found.value === "string" ? found : null;
  }

  function value(form, name) {
    var found = field(form, name);
    return found ? found.value.trim() : "";
  }

  // The first problem with the proposal, as [field name, message name], or null.
  function proposalProblem(form) {
    var title = value(form, "title");
    var description = value(form, "description");
    var email = value(form, "email");
    if (!title) {
      return ["title", "title-missing"];
    }
    if (title.length > LIMITS.title) {
      return ["title", "title-long"];
    }
    if (!description) {
      return ["description", "description-missing"];
    }
    if (description.length > LIMITS.description) {
      return ["description", "description-long"];
    }
    if (!value(form, "category")) {
      return ["category", "category-missing"];
    }
    if (value(form, "name").length > LIMITS.name) {
      return ["name", "name-long"];
    }
    if (email && (email.length > LIMITS.email || !EMAIL.test(email))) {
      return ["email", "email-invalid"];
    }
    return null;
  }

  function markInvalid(form, name) {
    form.querySelectorAll("[aria-invalid]").forEach(function (each) {
      each.removeAttribute("aria-invalid");
    });
    var found = name && field(form, name);
    if (found) {
      found.setAttribute("aria-invalid", "true");
      found.focus();
    }
  }

  function onPropose(form, event) {
    event.preventDefault();
    if (form.hasAttribute("data-busy")) {
      return;
    }
    var line = statusLine(form);
    var problem = proposalProblem(form);
    if (problem) {
      markInvalid(form, problem[0]);
      say(line, "error", words(problem[1], { max: LIMITS[problem[0]] }));
      return;
    }
    markInvalid(form, null);
    var body = {
      title: value(form, "title"),
      description: value(form, "description"),
      category: value(form, "category"),
      lang: value(form, "lang") || lang,
      name: value(form, "name"),
      email: value(form, "email"),
    };
    busy(form, true);
    say(line, "working", words("working"));
    proof()
      .then(function (altcha) {
        body.altcha = altcha;
        return call("POST", "/ideas", body);
      })
      .then(function () {
        ["title", "description", "name", "email"].forEach(function (name) {
          var found = field(form, name);
          if (found) {
            found.value = "";
          }
        });
        say(line, "done", words("proposed"));
      })
      .catch(function (error) {
        // "title: at most 140 characters": the field the service names.
        var named = /^(\w+):/.exec(error.detail || "");
        if (error.code === "invalid" && named) {
          markInvalid(form, named[1]);
        }
        say(line, "error", errorWords(error.code));
      })
      .then(function () {
        busy(form, false);
      });
  }

  /* ---- Confirming an e-mail address ---------------------------------------- */

  function onEmail(form, event) {
    event.preventDefault();
    if (form.hasAttribute("data-busy")) {
      return;
    }
    var line = statusLine(form);
    var email = value(form, "email");
    if (!email || email.length > LIMITS.email || !EMAIL.test(email)) {
      markInvalid(form, "email");
      say(line, "error", words("email-invalid"));
      return;
    }
    markInvalid(form, null);
    busy(form, true);
    say(line, "working", words("working"));
    proof()
      .then(function (altcha) {
        return call("POST", "/me/email", {
          email: email,
          lang: value(form, "lang") || lang,
          altcha: altcha,
        });
      })
      .then(function () {
        say(line, "done", words("email-sent", { email: email }));
      })
      .catch(function (error) {
        say(line, "error", errorWords(error.code));
      })
      .then(function () {
        busy(form, false);
      });
  }

  /* ---- Start ----------------------------------------------------------------- */

  // Writing needs JavaScript, and the page says so until it is here.
  document.querySelectorAll(".needs-js").forEach(function (note) {
    note.hidden = true;
  });
  document.querySelectorAll("[data-ideas-js]").forEach(function (part) {
    part.hidden = false;
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches) {
      return;
    }
    if (form.matches("form.idea-vote")) {
      onVote(form, event);
    } else if (form.matches("form.idea-propose")) {
      onPropose(form, event);
    } else if (form.matches("form.idea-email")) {
      onEmail(form, event);
    }
  });
  document.querySelectorAll("form.idea-propose, form.idea-email").forEach(function (form) {
    form.noValidate = true; // our messages, in the page's language
  });
  refreshCounts();
  loadMe();
})();
