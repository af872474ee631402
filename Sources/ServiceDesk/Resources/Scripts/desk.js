// Tabs of the incident form: arrow keys move between tabs; the URL's #fragment opens one.
(function () {
  var tabs = Array.prototype.slice.call(document.querySelectorAll('#incident-tabs [role=tab]'));
  function select(tab) {
    tabs.forEach(function (other) {
      var on = other === tab;
      other.setAttribute('aria-selected', on ? 'true' : 'false');
      other.tabIndex = on ? 0 : -1;
      document.getElementById(other.getAttribute('aria-controls')).hidden = !on;
    });
  }
  tabs.forEach(function (tab, index) {
    tab.addEventListener('click', function () { select(tab); });
    tab.addEventListener('keydown', function (event) {
      var step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
      if (step) { var next = tabs[(index + step + tabs.length) % tabs.length]; select(next); next.focus(); }
    });
  });
  var wanted = document.getElementById('tab-' + (location.hash || '#notes').slice(1));
  select(wanted || tabs[0]);
})();
