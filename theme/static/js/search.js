/* Search, on the search page only (/cerca/, /en/search/).
 *
 * Our own small interface on Pagefind's JavaScript API: pagefind.js (and its
 * worker, its WebAssembly and the index chunks it asks for) loads when this
 * page opens, never on other pages. The form is a plain GET form (?q=), so
 * the header's search field leads here and a result page can be linked; this
 * script reads ?q=, searches as the reader types, and keeps ?q= in the
 * address.
 *
 * - Results are announced in the status line (role=status): how many, or
 *   that there are none. Focus stays in the field; Tab goes on to the
 *   filters, then the results, then "Show more results".
 * - Matched words come back from Pagefind inside <mark>; excerpts are
 *   rebuilt here from text nodes and <mark> elements only, never inserted as
 *   HTML.
 * - A page of many entries (a community source, marked with the metadata
 *   entries:1) shows the matching entries, each linked to its place.
 * - Filters (type, category, year, source: what the pages carry, see
 *   search_attributes() in plugins/search) are one select each, built from
 *   the index of this page's language (Pagefind picks it from <html lang>).
 *
 * The words come from this script's data-strings attribute (no inline
 * script: the site's Content-Security-Policy forbids it).
 */
(function () {
  "use strict";

  var script = document.getElementById("search-script");
  var form = document.querySelector(".search-form");
  if (!script || !form) {
    return;
  }
  var strings = JSON.parse(script.getAttribute("data-strings"));
  var field = document.getElementById("search-q");
  var fieldset = form.querySelector(".search-filters");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var more = document.getElementById("search-more");
  var FILTERS = ["type", "category", "year", "source"];
  var PAGE = 10;
  var pagefind = null;
  var selects = {};
  var current = { results: [], shown: 0, token: 0 };
  var timer = null;

  document.querySelector("[data-search-nojs]").hidden = true;

  function say(text) {
    status.textContent = text;
  }

  function fill(template, query, count) {
    return template.replace("{q}", query).replace("{n}", String(count));
  }

  function broken(error) {
    say("");
    document.querySelector("[data-search-broken]").hidden = false;
    form.querySelector("button[type=submit]").disabled = true;
    field.disabled = true;
    if (window.console) {
      console.info("Search index not loaded:", error && error.message);
    }
  }

  /* Pagefind's excerpt is escaped text with <mark> around matched words:
     keep exactly that, as nodes. */
  function excerpt(html, into) {
    var doc = new DOMParser().parseFromString(
      "<p>" + html + "</p>",
      "text/html"
    );
    doc.body.firstChild.childNodes.forEach(function (node) {
      if (node.nodeType === 1 && node.nodeName === "MARK") {
        var mark = document.createElement("mark");
        mark.textContent = node.textContent;
        into.appendChild(mark);
      } else {
        into.appendChild(document.createTextNode(node.textContent));
      }
    });
    return into;
  }

  function safeHref(url) {
    try {
      var parsed = new URL(url, window.location.href);
      if (parsed.protocol === "https:" || parsed.protocol === "http:") {
        return parsed.href;
      }
    } catch (e) {
      /* falls through */
    }
    return null;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function render(data) {
    var item = element("li", "search-result");
    var heading = element("h2", "search-result__title");
    var link = element("a", null, (data.meta && data.meta.title) || data.url);
    link.href = safeHref(data.url) || "#";
    heading.appendChild(link);
    item.appendChild(heading);
    var facts = [];
    FILTERS.forEach(function (name) {
      var values = data.filters && data.filters[name];
      if (values && values.length && name !== "source") {
        facts.push(values[0]);
      }
    });
    if (facts.length) {
      item.appendChild(element("p", "search-result__meta", facts.join(" · ")));
    }
    if (data.meta && data.meta.image && safeHref(data.meta.image)) {
      var image = element("img", "search-result__image");
      image.src = safeHref(data.meta.image);
      image.alt = "";
      image.loading = "lazy";
      image.decoding = "async";
      image.referrerPolicy = "no-referrer"; /* a community source's own picture */
      item.appendChild(image);
    }
    var anchored = (data.meta && data.meta.entries ? data.sub_results || [] : []).filter(
      function (sub) {
        return sub.anchor && sub.anchor.id;
      }
    );
    if (anchored.length) {
      /* A page of many entries (a community source): each matching entry,
         with its own excerpt and a link to it on the page. */
      item.appendChild(element("p", "search-result__in", strings["in"]));
      var subs = element("ul", "search-result__subs");
      anchored.slice(0, 3).forEach(function (sub) {
        var li = element("li");
        var a = element("a", null, sub.title);
        a.href = safeHref(sub.url) || "#";
        li.appendChild(a);
        li.appendChild(excerpt(sub.excerpt, element("p", "search-result__excerpt")));
        subs.appendChild(li);
      });
      item.appendChild(subs);
    } else {
      item.appendChild(excerpt(data.excerpt, element("p", "search-result__excerpt")));
    }
    return item;
  }

  function showMore(focusFirst) {
    var token = current.token;
    var batch = current.results.slice(current.shown, current.shown + PAGE);
    current.shown += batch.length;
    more.hidden = current.shown >= current.results.length;
    return Promise.all(
      batch.map(function (result) {
        return result.data();
      })
    ).then(function (datas) {
      if (token !== current.token) {
        return;
      }
      var first = null;
      datas.forEach(function (data) {
        var item = render(data);
        first = first || item;
        list.appendChild(item);
      });
      if (focusFirst && first) {
        first.querySelector("a").focus();
      }
    });
  }

  function chosenFilters() {
    var chosen = {};
    Object.keys(selects).forEach(function (name) {
      if (selects[name].value) {
        chosen[name] = selects[name].value;
      }
    });
    return chosen;
  }

  function remember(query) {
    var url = new URL(window.location.href);
    if (query) {
      url.searchParams.set("q", query);
    } else {
      url.searchParams.delete("q");
    }
    window.history.replaceState(null, "", url.href);
  }

  function run() {
    var query = field.value.trim();
    var token = ++current.token;
    remember(query);
    if (!pagefind) {
      return;
    }
    if (!query) {
      list.replaceChildren();
      more.hidden = true;
      current.results = [];
      say("");
      return;
    }
    say(strings.searching);
    pagefind
      .search(query, { filters: chosenFilters() })
      .then(function (search) {
        if (token !== current.token) {
          return null;
        }
        list.replaceChildren();
        current.results = search.results;
        current.shown = 0;
        var count = search.results.length;
        if (!count) {
          more.hidden = true;
          say(fill(strings.none, query, 0));
          return null;
        }
        /* Announced once the first results are on the page, so a screen
           reader (or anyone) told "12 results" finds them there. */
        return showMore(false).then(function () {
          if (token === current.token) {
            say(fill(count === 1 ? strings.one : strings.many, query, count));
          }
        });
      })
      .catch(broken);
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(run, 250);
  }

  function buildFilters(available) {
    FILTERS.forEach(function (name) {
      var counts = available[name];
      var values = counts ? Object.keys(counts) : [];
      if (values.length < 2) {
        return;
      }
      values.sort();
      if (name === "year") {
        values.reverse();
      }
      var id = "search-filter-" + name;
      var wrap = element("p", "search-filter");
      var label = element("label", null, strings[name]);
      label.htmlFor = id;
      var select = element("select");
      select.id = id;
      select.name = name;
      select.appendChild(new Option(strings.all, ""));
      values.forEach(function (value) {
        select.appendChild(new Option(value, value));
      });
      var wanted = new URL(window.location.href).searchParams.get(name);
      if (wanted && values.indexOf(wanted) !== -1) {
        select.value = wanted;
      }
      select.addEventListener("change", function () {
        var url = new URL(window.location.href);
        if (select.value) {
          url.searchParams.set(name, select.value);
        } else {
          url.searchParams.delete(name);
        }
        window.history.replaceState(null, "", url.href);
        run();
      });
      selects[name] = select;
      wrap.appendChild(label);
      wrap.appendChild(select);
      fieldset.appendChild(wrap);
    });
    fieldset.hidden = Object.keys(selects).length === 0;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    window.clearTimeout(timer);
    run();
  });
  field.addEventListener("input", later);
  more.addEventListener("click", function () {
    showMore(true);
  });

  field.value = new URL(window.location.href).searchParams.get("q") || "";
  import(script.getAttribute("data-bundle"))
    .then(function (module) {
      pagefind = module;
      return pagefind.options({ excerptLength: 24 });
    })
    .then(function () {
      return pagefind.filters();
    })
    .then(function (available) {
      buildFilters(available || {});
      run();
    })
    .catch(broken);
})();
