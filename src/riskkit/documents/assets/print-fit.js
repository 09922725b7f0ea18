/* riskkit: fit wide tables to the printed page (used by riskkit.documents.pdf in print layout, after print.css).
   print.css alone lets every cell break anywhere, so no table is ever clipped; here each table gets the most
   readable layout that still fits its box: words kept whole (only tokens over 16 characters, such as hashes, break
   anywhere), then the same in smaller type, else any break in smaller type. Runs nothing from the data. */
(function () {
  'use strict';
  var LONG = /\S{17,}/;

  function room(el) {
    var box = el.parentElement || document.body;
    var s = getComputedStyle(box);
    return box.clientWidth - parseFloat(s.paddingLeft || '0') - parseFloat(s.paddingRight || '0');
  }

  function fits(table, width) {
    return table.getBoundingClientRect().width <= width + 0.5;
  }

  window.riskkitFitTables = function () {
    var counts = { words: 0, small: 0, anywhere: 0 };
    Array.prototype.forEach.call(document.querySelectorAll('table'), function (table) {
      Array.prototype.forEach.call(table.querySelectorAll('th, td'), function (cell) {
        if (LONG.test(cell.textContent)) { cell.classList.add('rk-long'); }
      });
      var width = room(table);
      table.classList.add('rk-fit-words');
      if (fits(table, width)) { counts.words += 1; return; }
      table.classList.add('rk-fit-small');
      if (fits(table, width)) { counts.small += 1; return; }
      table.classList.remove('rk-fit-words');
      counts.anywhere += 1;
    });
    return counts;
  };
})();
