// Small enhancements on top of pages that work without JavaScript (htmx does the partial updates).
document.addEventListener("click", function (event) {
  var target = event.target.closest("[data-print]");
  if (target) {
    event.preventDefault();
    window.print();
  }
});
