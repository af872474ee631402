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

// Panels that load after the page (the Microsoft 365 support tab): `data-fragment` names the panel's address;
// a form with `data-fragment-form` reloads that panel instead of the page. A failed load says so in the panel.
(function () {
  function load(container, url) {
    container.setAttribute('aria-busy', 'true');
    fetch(url, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
      .then(function (response) {
        if (!response.ok) { throw new Error('the desk answered ' + response.status); }
        return response.text();
      })
      .then(function (html) { container.innerHTML = html; wire(container); })
      .catch(function (error) {
        container.innerHTML = '';
        var message = document.createElement('p');
        message.className = 'error';
        message.setAttribute('role', 'alert');
        message.textContent = 'This section could not be loaded (' + error.message + '). Reload the page to try again.';
        container.appendChild(message);
      })
      .then(function () { container.setAttribute('aria-busy', 'false'); });
  }
  function wire(container) {
    // A result link opens the article and tells the desk it was opened (`data-keep` names the result's form);
    // following the link never waits for that, and without scripts the link simply opens.
    Array.prototype.forEach.call(container.querySelectorAll('a[data-keep]'), function (link) {
      link.addEventListener('click', function () {
        var form = document.getElementById(link.getAttribute('data-keep'));
        if (!form) { return; }
        var fields = new URLSearchParams(new FormData(form));
        fields.set('action', 'open');
        fetch(form.getAttribute('action'), {
          method: 'POST', credentials: 'same-origin', redirect: 'manual', body: fields,
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' }
        }).catch(function () {});
      });
    });
    Array.prototype.forEach.call(container.querySelectorAll('form[data-fragment-form]'), function (form) {
      form.addEventListener('submit', function (event) {
        event.preventDefault();
        var query = new URLSearchParams(new FormData(form));
        query.set('fragment', '1');
        load(container, form.getAttribute('action') + '?' + query.toString());
      });
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll('[data-fragment]'), function (container) {
    load(container, container.getAttribute('data-fragment'));
  });
  // Copy buttons: `data-copy` names the element whose text goes to the clipboard.
  Array.prototype.forEach.call(document.querySelectorAll('button[data-copy]'), function (button) {
    button.addEventListener('click', function () {
      var source = document.getElementById(button.getAttribute('data-copy'));
      if (!source || !navigator.clipboard) { return; }
      navigator.clipboard.writeText(source.textContent).then(function () { button.textContent = 'Copied'; });
    });
  });
})();

// Reference fields (caller, assigned to): a text box taking a user ID or name, which the desk resolves on save;
// typing asks the desk for matching users (`data-reference` names the search) and offers them in the box's list.
(function () {
  Array.prototype.forEach.call(document.querySelectorAll('input[data-reference]'), function (input) {
    var list = document.getElementById(input.getAttribute('list'));
    var label = document.getElementById(input.id + '-label');
    var timer = null;
    var asked = '';
    var names = {};
    input.addEventListener('input', function () {
      if (label && names[input.value]) { label.textContent = names[input.value]; }
      clearTimeout(timer);
      timer = setTimeout(function () {
        var text = input.value.trim();
        if (text === asked) { return; }
        asked = text;
        fetch(input.getAttribute('data-reference') + '&q=' + encodeURIComponent(text),
              { credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
          .then(function (response) { return response.ok ? response.json() : { result: [] }; })
          .then(function (answer) {
            if (text !== asked || !list) { return; }
            list.innerHTML = '';
            answer.result.forEach(function (user) {
              var option = document.createElement('option');
              option.value = user.userName;
              option.label = user.name + (user.email ? ' — ' + user.email : '');
              names[user.userName] = user.name;
              list.appendChild(option);
            });
          })
          .catch(function () {});
      }, 150);
    });
  });
})();
