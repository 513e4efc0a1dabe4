// Staff intranet: live update of a handoff's transcript. Plain JavaScript, no framework.
// New messages are built with textContent only: what citizens type never becomes markup.
(function () {
  "use strict";
  var POLL_MS = 4000;
  var list = document.getElementById("transcript");
  if (!list || !window.fetch) {
    return;
  }
  var url = list.getAttribute("data-poll-url");
  var lastId = parseInt(list.getAttribute("data-last-id") || "0", 10) || 0;
  var status = document.getElementById("poll-status");
  var ticketStatus = document.getElementById("ticket-status");
  var refresh = document.getElementById("refresh-link");
  if (refresh) {
    refresh.hidden = true;
  }
  if (status) {
    status.textContent = "Neue Nachrichten erscheinen hier automatisch.";
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

  function append(message) {
    var item = element("li", "message message-" + String(message.role).replace(/[^a-z]/g, ""));
    item.setAttribute("data-id", String(message.id));
    var meta = message.role_label;
    if (message.role === "staff" && message.author) {
      meta += " (" + message.author + ")";
    }
    meta += " · " + message.time;
    var metaNode = element("p", "meta", meta);
    if (message.delivered === false) {
      metaNode.appendChild(document.createTextNode(" · "));
      metaNode.appendChild(element("strong", "", "nicht zugestellt"));
    }
    item.appendChild(metaNode);
    item.appendChild(element("p", "text", message.text));
    list.appendChild(item);
  }

  function poll() {
    fetch(url + "?nach=" + encodeURIComponent(String(lastId)), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (response.status === 401) {
          throw new Error("signed-out");
        }
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        data.messages.forEach(function (message) {
          if (message.id > lastId) {
            append(message);
            lastId = message.id;
          }
        });
        if (ticketStatus && data.status_label) {
          ticketStatus.textContent = data.status_label;
        }
        if (status) {
          status.textContent = "Neue Nachrichten erscheinen hier automatisch.";
        }
        window.setTimeout(poll, POLL_MS);
      })
      .catch(function (error) {
        if (status) {
          status.textContent =
            error.message === "signed-out"
              ? "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich neu an."
              : "Die Aktualisierung ist gerade gestört; es wird weiter versucht.";
        }
        if (refresh) {
          refresh.hidden = false;
        }
        if (error.message !== "signed-out") {
          window.setTimeout(poll, POLL_MS * 2);
        }
      });
  }

  window.setTimeout(poll, POLL_MS);
})();
