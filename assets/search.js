// Search in the browser, for a static copy of the site (`casefile export`),
// where no server answers `?q=`: the search page was rendered without a
// query, so this script reads the query from the address, loads the
// page's search data (`index.json` beside it, same origin) and lists what
// matches. On the dynamic site the server renders the results and this
// script does nothing. Results are built as DOM nodes, never as HTML.
"use strict";
(function () {
  var box = document.getElementById("search-results");
  if (!box || box.getAttribute("data-query") !== "") return;
  var params = new URLSearchParams(window.location.search);
  var query = (params.get("q") || "").trim().slice(0, 200);
  var kind = params.get("type") || "";
  if (!query) return;
  var field = document.getElementById("q");
  if (field) field.value = query;
  var select = document.getElementById("type");
  if (select) select.value = kind;

  // Lower case, German letters spelled out and other accents dropped, so
  // "Soering" finds "Söring" and "Cafe" finds "Café".
  function fold(text) {
    return text.toLowerCase().replace(/ä/g, "ae").replace(/ö/g, "oe").replace(/ü/g, "ue").replace(/ß/g, "ss")
      .normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }
  function words(text) {
    return fold(text).split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  }
  var terms = words(query);

  // A document matches when every term starts a word of it; words of
  // the title count more.
  function score(doc) {
    var title = words(doc.t), text = words(doc.x), total = 0;
    for (var i = 0; i < terms.length; i++) {
      var term = terms[i], hits = 0;
      for (var j = 0; j < title.length; j++) if (title[j].indexOf(term) === 0) hits += 5;
      for (var k = 0; k < text.length; k++) if (text[k].indexOf(term) === 0) hits += 1;
      if (!hits) return 0;
      total += hits;
    }
    return total;
  }

  function snippet(text) {
    var folded = fold(text), at = folded.indexOf(terms[0] || "");
    var start = Math.max(0, at - 60);
    var cut = text.slice(start, start + 200);
    return (start > 0 ? "… " : "") + cut + (start + 200 < text.length ? " …" : "");
  }

  function show(hits) {
    while (box.firstChild) box.removeChild(box.firstChild);
    var status = document.createElement("p");
    status.setAttribute("role", "status");
    var template = box.getAttribute(hits.length ? "data-found" : "data-none") || "";
    status.textContent = template.replace("{count}", String(hits.length)).replace("{query}", query);
    box.appendChild(status);
    if (!hits.length) return;
    var list = document.createElement("ol");
    list.className = "results";
    hits.slice(0, 100).forEach(function (doc) {
      var item = document.createElement("li");
      var label = document.createElement("p");
      label.className = "kind";
      label.textContent = box.getAttribute("data-kind-" + doc.k) || doc.k;
      var heading = document.createElement("h2");
      var link = document.createElement("a");
      link.href = doc.u;
      link.textContent = doc.t;
      heading.appendChild(link);
      var text = document.createElement("p");
      text.textContent = snippet(doc.x);
      item.appendChild(label);
      item.appendChild(heading);
      item.appendChild(text);
      list.appendChild(item);
    });
    box.appendChild(list);
  }

  fetch(box.getAttribute("data-index"), { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    })
    .then(function (data) {
      var hits = data.docs
        .filter(function (doc) { return !kind || doc.k === kind; })
        .map(function (doc) { return { doc: doc, score: score(doc) }; })
        .filter(function (h) { return h.score > 0; })
        .sort(function (a, b) { return b.score - a.score; })
        .map(function (h) { return h.doc; });
      show(hits);
    })
    .catch(function () {
      box.setAttribute("data-query", query);
    });
})();
