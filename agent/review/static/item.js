// The item page's keys. Every action is a plain form that works without this script;
// the keys only move the focus, follow the page's own links and submit its own forms.
// Nothing here builds HTML: text is set with textContent only.
//
//   a  approve the reply and go to the next item (only when the reply is not empty)
//   e  edit the reply            r  reject: type why, Enter     x  escalate: type why, Enter
//   n  next item   p  previous   Esc  leave the field, else back to the queue   ?  the keys
(function () {
  "use strict";

  if (!document.querySelector(".item-page")) {
    return;
  }
  var byId = function (id) {
    return document.getElementById(id);
  };
  var help = byId("keys");
  var helpButton = byId("keys-button");
  var status = byId("key-status");
  var sent = false; // a form is on its way: no second submit (it would be refused as stale)

  var TEXT_INPUTS = ["text", "search", "email", "url", "tel", "password", "number", "date"];

  function typing(el) {
    if (!el || !el.tagName) {
      return false;
    }
    var tag = el.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select" || el.isContentEditable) {
      return true;
    }
    return tag === "input" && TEXT_INPUTS.indexOf((el.type || "text").toLowerCase()) >= 0;
  }

  function say(text) {
    if (status) {
      status.textContent = text;
      status.hidden = !text;
    }
  }

  function follow(id) {
    var link = byId(id);
    if (link && link.href) {
      sent = true;
      window.location.assign(link.href);
      return true;
    }
    return false;
  }

  function focusField(id, what) {
    var field = byId(id);
    if (!field) {
      say("There is no " + what + " on this page.");
      return;
    }
    field.scrollIntoView({ block: "center" });
    field.focus();
    if (typeof field.select === "function" && field.tagName.toLowerCase() !== "textarea") {
      field.select();
    }
    say("");
  }

  function showHelp(show) {
    if (!help) {
      return;
    }
    help.hidden = !show;
    if (helpButton) {
      helpButton.setAttribute("aria-expanded", show ? "true" : "false");
    }
  }

  function approveAndNext() {
    var text = byId("reply-text");
    var button = byId("approve-next");
    if (!text || !button) {
      say("This item has no reply to approve.");
      return;
    }
    if (text.value.trim() === "") {
      focusField("reply-text", "reply");
      say("The reply is empty: write it first, then approve it (a, once you left the box with Esc).");
      return;
    }
    submit(button);
  }

  function submit(button) {
    var form = button.form;
    if (sent || !form) {
      return;
    }
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit(button); // the submit listener below marks it sent
    } else {
      button.click();
    }
  }

  document.addEventListener("submit", function (event) {
    if (sent) {
      event.preventDefault(); // a second Enter or click while the first one is on its way
      return;
    }
    sent = true;
  });

  window.addEventListener("pageshow", function () {
    sent = false; // back from the next page (the browser's cache): the page works again
  });

  if (helpButton) {
    helpButton.hidden = false;
    helpButton.addEventListener("click", function () {
      showHelp(help ? help.hidden : false);
    });
  }

  var keys = {
    a: approveAndNext,
    e: function () {
      focusField("reply-text", "reply box");
    },
    r: function () {
      focusField("reject-reason", "reject form");
    },
    x: function () {
      focusField("escalate-reason", "escalate form");
    },
    n: function () {
      if (!follow("next-item")) {
        say("No next item in this queue.");
      }
    },
    p: function () {
      if (!follow("prev-item")) {
        say("No previous item in this queue.");
      }
    },
    "?": function () {
      showHelp(help ? help.hidden : false);
    },
  };

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (event.isComposing || event.keyCode === 229) {
      return; // an input method is composing a character
    }
    var target = event.target;
    if (event.key === "Escape") {
      event.preventDefault();
      if (typing(target)) {
        target.blur();
      } else if (help && !help.hidden) {
        showHelp(false);
      } else {
        follow("to-queue");
      }
      return;
    }
    if (typing(target) || sent) {
      return;
    }
    var action = Object.prototype.hasOwnProperty.call(keys, event.key) ? keys[event.key] : null;
    if (action) {
      event.preventDefault();
      action();
    }
  });
})();
