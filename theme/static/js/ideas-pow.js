/* Proof of work before a vote, a poll choice or a proposal (the server side:
 * services/ideas/pow.py, ALTCHA's v2 protocol, self-hosted).
 *
 *   PiazzaPow.solve("/idee-api").then(function (altcha) {
 *     // send altcha as the "altcha" field of the next write
 *   });
 *
 * Asks the ideas service for a challenge (GET <api>/challenge), finds the
 * counter whose derived key starts with the challenge's prefix with the
 * browser's own crypto.subtle (in batches, yielding between them, so the
 * page stays responsive), and resolves with the payload the service
 * verifies: base64 of {"challenge", "solution": {"counter", "derivedKey",
 * "time"}}. Each payload pays for one write. Rejects with an Error whose
 * `code` is "unsupported" (no crypto.subtle: an old browser or a page not
 * served over https), "network" or "unsolved".
 *
 * No third party, no inline script (the site's CSP forbids both).
 */
(function () {
  "use strict";

  var BATCH = 64;
  var HASHES = { "SHA-256": "SHA-256", "SHA-384": "SHA-384", "SHA-512": "SHA-512" };

  function failure(code, message) {
    var error = new Error(message);
    error.code = code;
    return error;
  }

  function bytes(hexText) {
    var out = new Uint8Array(hexText.length / 2);
    for (var i = 0; i < out.length; i += 1) {
      out[i] = parseInt(hexText.substr(i * 2, 2), 16);
    }
    return out;
  }

  function hex(buffer) {
    var view = new Uint8Array(buffer);
    var text = "";
    for (var i = 0; i < view.length; i += 1) {
      text += ("0" + view[i].toString(16)).slice(-2);
    }
    return text;
  }

  // The KDF password: the nonce, then the counter as a big-endian uint32
  // (the library's default "uint32" counter mode).
  function password(nonce, counter) {
    var out = new Uint8Array(nonce.length + 4);
    out.set(nonce);
    new DataView(out.buffer).setUint32(nonce.length, counter >>> 0, false);
    return out;
  }

  function concat(a, b) {
    var out = new Uint8Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  }

  // derive(counter) -> Promise<ArrayBuffer of keyLength bytes>, as
  // altcha.v2.derive_key_sha / derive_key_pbkdf2 compute it.
  function deriver(parameters) {
    var algorithm = String(parameters.algorithm || "SHA-256").toUpperCase();
    var salt = bytes(parameters.salt);
    var nonce = bytes(parameters.nonce);
    var length = parameters.keyLength || 32;
    var cost = Math.max(1, parameters.cost || 1);
    if (algorithm.indexOf("PBKDF2/") === 0) {
      var hash = HASHES[algorithm.slice(7)] || "SHA-256";
      return function (counter) {
        return crypto.subtle
          .importKey("raw", password(nonce, counter), "PBKDF2", false, ["deriveBits"])
          .then(function (key) {
            return crypto.subtle.deriveBits(
              { name: "PBKDF2", salt: salt, iterations: cost, hash: hash },
              key,
              length * 8
            );
          });
      };
    }
    var digest = HASHES[algorithm] || "SHA-256";
    return function (counter) {
      var round = 0;
      function next(data) {
        return crypto.subtle.digest(digest, data).then(function (out) {
          round += 1;
          return round < cost ? next(new Uint8Array(out)) : out.slice(0, length);
        });
      }
      return next(concat(salt, password(nonce, counter)));
    };
  }

  function search(challenge) {
    var parameters = challenge.parameters || {};
    var prefix = String(parameters.keyPrefix || "").toLowerCase();
    var derive = deriver(parameters);
    var started = Date.now();
    var expires = (parameters.expiresAt || 0) * 1000;
    return new Promise(function (resolve, reject) {
      function batch(start) {
        if (expires && Date.now() > expires) {
          reject(failure("unsolved", "the challenge expired before it was solved"));
          return;
        }
        var tries = [];
        for (var counter = start; counter < start + BATCH; counter += 1) {
          tries.push(derive(counter));
        }
        Promise.all(tries).then(function (keys) {
          for (var i = 0; i < keys.length; i += 1) {
            var key = hex(keys[i]);
            if (key.indexOf(prefix) === 0) {
              resolve({
                counter: start + i,
                derivedKey: key,
                time: Date.now() - started,
              });
              return;
            }
          }
          setTimeout(function () {
            batch(start + BATCH);
          }, 0);
        }, reject);
      }
      batch(0);
    });
  }

  function solve(api) {
    if (!window.crypto || !crypto.subtle || !window.fetch || !window.Promise) {
      return Promise.reject(
        failure("unsupported", "this browser can't do the proof of work")
      );
    }
    var base = String(api || "").replace(/\/+$/, "");
    return fetch(base + "/challenge", {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(
        function (response) {
          if (!response.ok) {
            throw failure("network", "challenge: HTTP " + response.status);
          }
          return response.json();
        },
        function () {
          throw failure("network", "the ideas service can't be reached");
        }
      )
      .then(solveChallenge);
  }

  // A challenge already in hand (as GET <api>/challenge answers it).
  function solveChallenge(challenge) {
    return search(challenge).then(function (solution) {
      return btoa(JSON.stringify({ challenge: challenge, solution: solution }));
    });
  }

  window.PiazzaPow = { solve: solve, solveChallenge: solveChallenge };
})();
