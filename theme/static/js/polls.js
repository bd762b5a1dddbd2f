/* Polls in posts (plugins/polls, theme/templates/partials/poll.html): the
 * reader chooses an option, the ideas service counts it (services/ideas/
 * polls.py), the page shows the results. One choice per reader, changeable
 * until the poll closes; a reload keeps it (the service remembers it through
 * the voter cookie, GET <api>/polls/<id>/me).
 *
 * Without this script the form stays disabled and the page says voting
 * needs JavaScript, showing the numbers of the last build. The results are
 * shown once the reader has voted (their choice comes first). Each vote
 * pays with a proof of work (PiazzaPow.solve, theme/static/js/ideas-pow.js).
 * Words come from the status line's data-msg-* attributes, in the page's
 * language. No inline script or style (the site's CSP).
 */
(function () {
  "use strict";

  function words(status, name, values) {
    var text = status.getAttribute("data-msg-" + name) || "";
    Object.keys(values || {}).forEach(function (key) {
      text = text.split("{" + key + "}").join(values[key]);
    });
    return text;
  }

  function counted(status, plurals, name, n) {
    var form = plurals.select(n) === "one" ? "one" : "other";
    return words(status, name + "-" + form, { n: n.toLocaleString(plurals.lang) });
  }

  function Poll(section) {
    this.section = section;
    this.id = section.getAttribute("data-poll-id");
    this.api = (section.getAttribute("data-polls-api") || "").replace(/\/+$/, "");
    this.lang = section.getAttribute("data-lang") || document.documentElement.lang;
    this.form = section.querySelector("[data-poll-form]");
    this.options = section.querySelector("[data-poll-options]");
    this.submit = section.querySelector("[data-poll-submit]");
    this.status = section.querySelector("[data-poll-status]");
    this.board = section.querySelector("[data-poll-board]");
    this.plurals = new Intl.PluralRules(this.lang);
    this.plurals.lang = this.lang;
    this.choice = null;
  }

  Poll.prototype.url = function (tail) {
    return this.api + "/polls/" + encodeURIComponent(this.id) + tail;
  };

  Poll.prototype.label = function (key) {
    var input = this.form.querySelector('input[name="option"][value="' + key + '"]');
    return input ? input.parentNode.textContent.trim() : key;
  };

  Poll.prototype.say = function (name, values) {
    this.status.textContent = words(this.status, name, values);
    this.status.setAttribute("data-kind", name);
  };

  Poll.prototype.show = function (totals) {
    var section = this.section;
    var status = this.status;
    var plurals = this.plurals;
    var keys = Object.keys(totals);
    var total = keys.reduce(function (sum, key) { return sum + totals[key]; }, 0);
    var top = Math.max.apply(null, keys.map(function (key) { return totals[key]; }));
    var choice = this.choice;
    section.querySelectorAll("[data-poll-results] li[data-option]").forEach(function (row) {
      var key = row.getAttribute("data-option");
      var count = totals[key] || 0;
      var percent = total ? Math.round((100 * count) / total) : 0;
      row.querySelector("[data-poll-count]").textContent = counted(status, plurals, "votes", count);
      row.querySelector("[data-poll-percent]").textContent = percent + "%";
      var bar = row.querySelector("[data-poll-bar]");
      bar.value = percent;
      bar.textContent = percent + "%";
      row.classList.toggle("poll__result--leading", total > 0 && count === top);
      row.classList.toggle("poll__result--mine", key === choice);
    });
    var line = section.querySelector("[data-poll-total]");
    if (line) line.textContent = counted(status, plurals, "total", total);
    if (this.board) this.board.hidden = false;
  };

  Poll.prototype.mark = function (key) {
    this.choice = key;
    this.form.querySelectorAll('input[name="option"]').forEach(function (input) {
      input.checked = input.value === key;
    });
  };

  Poll.prototype.close = function () {
    this.options.disabled = true;
    this.submit.disabled = true;
    this.say("closed");
  };

  Poll.prototype.refused = function (code) {
    if (code === "closed") return this.close();
    if (code === "limit") return this.say("limit");
    if (code === "forged_cookie" || code === "unknown_voter") return this.say("cookie");
    if (code && code.indexOf("pow_") === 0) return this.say("pow");
    if (code === "unsupported" || code === "unsolved") return this.say("pow");
    if (code === "network") return this.say("unreachable");
    return this.say("refused");
  };

  Poll.prototype.vote = function (option) {
    var poll = this;
    var before = poll.choice;
    poll.submit.disabled = true;
    poll.say("working");
    return PiazzaPow.solve(poll.api)
      .then(function (altcha) {
        return fetch(poll.url("/vote"), {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          credentials: "same-origin",
          body: JSON.stringify({ option: option, altcha: altcha })
        }).catch(function () {
          var error = new Error("network");
          error.code = "network";
          throw error;
        });
      })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (answer) {
          if (!response.ok) {
            var error = new Error(answer.message || "refused");
            error.code = answer.error || (response.status >= 500 ? "network" : "refused");
            throw error;
          }
          return answer;
        });
      })
      .then(function (answer) {
        poll.mark(answer.choice);
        poll.show(answer.totals);
        if (before && before !== answer.choice) {
          poll.say("changed", { option: poll.label(answer.choice) });
        } else {
          poll.say("voted");
        }
      })
      .catch(function (error) {
        poll.refused(error.code);
      })
      .then(function () {
        if (poll.status.getAttribute("data-kind") !== "closed") poll.submit.disabled = false;
      });
  };

  Poll.prototype.start = function () {
    var poll = this;
    var needsJs = poll.section.querySelector("[data-poll-needs-js]");
    if (needsJs) needsJs.hidden = true;
    if (poll.board) poll.board.hidden = true; // the reader's choice comes first
    poll.options.disabled = false;
    poll.submit.disabled = false;
    poll.form.addEventListener("submit", function (event) {
      event.preventDefault();
      var chosen = poll.form.querySelector('input[name="option"]:checked');
      if (chosen) poll.vote(chosen.value);
    });
    var get = function (tail) {
      return fetch(poll.url(tail), {
        credentials: "same-origin",
        headers: { Accept: "application/json" }
      }).then(function (response) {
        return response.ok ? response.json() : Promise.reject(response.status);
      });
    };
    Promise.all([get("/me"), get("")])
      .then(function (answers) {
        var mine = answers[0];
        var current = answers[1];
        if (mine.choice) poll.mark(mine.choice);
        if (current.closed) {
          // Closed since the page was built: no more votes, the numbers stand.
          poll.close();
          poll.show(current.totals);
        } else if (mine.choice) {
          poll.say("yours", { option: poll.label(mine.choice) });
          poll.show(current.totals);
        }
      })
      .catch(function () {
        // The service is unreachable: the form still works when it's back,
        // and the build's numbers stay where they were.
        if (poll.board) poll.board.hidden = false;
      });
  };

  function start() {
    document.querySelectorAll("section.poll[data-poll-id]").forEach(function (section) {
      if (section.querySelector("[data-poll-form]")) new Poll(section).start();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
