(function () {
  // Sort a table by a column: a button in each header cell (mouse or keyboard), aria-sort on the sorted header.
  function key(cell, numeric) {
    var raw = cell.getAttribute('data-sort');
    var text = raw === null ? cell.textContent.trim() : raw;
    if (numeric) { var n = parseFloat(text); return isNaN(n) ? -Infinity : n; }
    return text.toLowerCase();
  }
  document.querySelectorAll('table.rk-sortable').forEach(function (table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, col) {
      var button = th.querySelector('button.rk-sort');
      if (!button) { return; }
      button.addEventListener('click', function () {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var ascending = th.getAttribute('aria-sort') !== 'ascending';
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
        var numeric = rows.length && rows[0].cells[col] && rows[0].cells[col].hasAttribute('data-num');
        rows.sort(function (a, b) {
          var x = key(a.cells[col], numeric), y = key(b.cells[col], numeric);
          var cmp = x < y ? -1 : x > y ? 1 : 0;
          return ascending ? cmp : -cmp;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  // Table of contents from the report's sections (h2), numbered by the list itself.
  var list = document.querySelector('#rk-toc ol');
  if (list) {
    document.querySelectorAll('main h2').forEach(function (h, i) {
      if (h.closest('#rk-toc')) { return; }
      var text = (h.textContent || '').replace(/¶$/, '').trim();
      if (!text) { return; }
      if (!h.id) { h.id = 'rk-section-' + (i + 1); }
      var li = document.createElement('li');
      var a = document.createElement('a');
      a.href = '#' + encodeURIComponent(h.id);
      a.textContent = text;
      li.appendChild(a);
      list.appendChild(li);
    });
    if (!list.children.length) { document.getElementById('rk-toc').style.display = 'none'; }
  }
})();
