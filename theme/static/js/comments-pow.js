/* Proof of work before a comment (the server side: piazza/isso_guard.py).
 *
 * Loaded by comments.js with Isso's widget. When the reader first puts the
 * cursor in the comment form, this asks the comment server for an ALTCHA
 * challenge (GET <isso>/pow/challenge), finds its number with the browser's
 * own SHA-256 (crypto.subtle, in batches, so the page stays responsive; a
 * second or so on a phone), and hands the solution back (POST
 * <isso>/pow/verify). The answer sets an HttpOnly cookie scoped to the comment
 * server, so Isso's own POST /new carries the proof without any change to
 * Isso's script. Each proof pays for one comment: after a submit, the next
 * focus solves a new one.
 *
 * A server without proof of work (development: Isso's built-in server)
 * answers 404 to the challenge: then this does nothing. No third party, no
 * inline script (the site's CSP forbids both).
 */
(function () {
  "use strict";

  var me = document.currentScript;
  if (!me || !window.crypto || !crypto.subtle || !window.fetch) {
    return;
  }
  var isso = (me.getAttribute("data-isso") || "").replace(/\/+$/, "");
  var BATCH = 500;
  var state = "none"; // none | solving | ready | off
  var expires = 0;
  // A submit pressed before the proof was ready waits for it, then goes on;
  // if the proof fails, it goes through once and the server says why.
  var waiting = null;
  var passThrough = false;

  function fresh() {
    return state === "ready" && Date.now() / 1000 < expires - 30;
  }

  function release(proved) {
    if (!waiting) {
      return;
    }
    var submit = waiting;
    waiting = null;
    passThrough = !proved;
    submit.click();
  }
  var encoder = new TextEncoder();

  function hex(buffer) {
    return Array.prototype.map
      .call(new Uint8Array(buffer), function (byte) {
        return ("0" + byte.toString(16)).slice(-2);
      })
      .join("");
  }

  function digest(algorithm, text) {
    return crypto.subtle.digest(algorithm, encoder.encode(text)).then(hex);
  }

  // ALTCHA (v1): the number n, 0..maxNumber, with hash(salt + n) == challenge.
  function solve(challenge, start) {
    var end = Math.min(start + BATCH, challenge.maxNumber + 1);
    if (start >= end) {
      return Promise.resolve(null);
    }
    var tries = [];
    for (var n = start; n < end; n++) {
      tries.push(digest(challenge.algorithm, challenge.salt + n));
    }
    return Promise.all(tries).then(function (hashes) {
      var found = hashes.indexOf(challenge.challenge);
      return found >= 0 ? start + found : solve(challenge, end);
    });
  }

  function prove() {
    if (state === "solving" || state === "off" || fresh()) {
      return;
    }
    state = "solving";
    var challenge;
    fetch(isso + "/pow/challenge", { credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 404) {
          state = "off";
          release(false);
          return null;
        }
        if (!response.ok) {
          throw new Error("challenge: " + response.status);
        }
        return response.json();
      })
      .then(function (got) {
        if (!got) {
          return null;
        }
        challenge = got;
        return solve(challenge, 0);
      })
      .then(function (number) {
        if (number === null || number === undefined) {
          if (state === "solving") {
            state = "none";
          }
          release(false);
          return null;
        }
        var payload = btoa(
          JSON.stringify({
            algorithm: challenge.algorithm,
            challenge: challenge.challenge,
            number: number,
            salt: challenge.salt,
            signature: challenge.signature,
          })
        );
        return fetch(isso + "/pow/verify", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ payload: payload }),
        });
      })
      .then(function (response) {
        if (!response) {
          return null;
        }
        if (!response.ok) {
          throw new Error("verify: " + response.status);
        }
        return response.json();
      })
      .then(function (answer) {
        if (answer) {
          expires = answer.expires;
          state = "ready";
          document.documentElement.setAttribute("data-comments-pow", "ready");
          release(true);
        }
      })
      .catch(function () {
        state = "none"; // the next focus tries again
        release(false);
      });
  }

  document.addEventListener("focusin", function (event) {
    if (event.target.closest && event.target.closest(".isso-postbox")) {
      prove();
    }
  });
  // A submit spends the proof: the next focus solves a new one (after this
  // click's own request has left with the current cookie). A submit pressed
  // before the proof is ready is held until it is (Isso's script never sees
  // the first press).
  document.addEventListener(
    "click",
    function (event) {
      var submit =
        event.target.closest && event.target.closest(".isso-postbox [type=submit]");
      if (!submit) {
        return;
      }
      if (fresh()) {
        setTimeout(function () {
          state = "none";
          document.documentElement.removeAttribute("data-comments-pow");
        }, 0);
        return;
      }
      if (state === "off" || passThrough) {
        passThrough = false;
        return;
      }
      event.preventDefault();
      event.stopImmediatePropagation();
      waiting = submit;
      prove();
    },
    true
  );
})();
