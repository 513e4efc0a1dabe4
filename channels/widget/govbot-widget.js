/*
 * GovBot web widget: the browser client of the REST channel (channels/rest.py).
 *
 * Embed it with one script tag; it loads its style sheet from the same folder:
 *
 *   <script src="https://portal.example/widget/govbot-widget.js"
 *           data-rasa-url="https://portal.example/govbot"
 *           data-privacy-url="/datenschutz" defer></script>
 *
 * It posts {"sender", "message"} to <data-rasa-url>/webhooks/rest/webhook and shows the
 * answers. Plain JavaScript without dependencies, so nothing is built or fetched from a CDN.
 *
 * Human handoff: when an answer carries {"custom": {"govbot": {"handoff": "live"}}}, a person
 * of the service center has the conversation. The widget then asks
 * <data-rasa-url>/webhooks/rest/inbox every few seconds for their messages (shown as
 * "Servicecenter") until the inbox says the handoff is over; a reload goes on asking.
 * {"govbot": {"delete_conversation": true}} means the conversation was deleted on the server:
 * the widget forgets it too and starts afresh. Other custom payloads are not shown.
 *
 * Safety: bot and citizen texts are never parsed as HTML. Every message is built from text
 * nodes; only http, https, mailto and tel URLs become links, everything else stays text.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.GovBotWidget) {
    return;
  }

  var STORAGE_SENDER = "govbot.sender";
  var STORAGE_TRANSCRIPT = "govbot.transcript";
  var STORAGE_OPEN = "govbot.open";
  var STORAGE_HANDOFF = "govbot.handoff";
  var POLL_MS = 3000;
  var MAX_KEPT_MESSAGES = 200;
  var MAX_MESSAGE_LENGTH = 2000;
  var TIMEOUT_MS = 45000;
  var SAFE_SCHEMES = /^(https?:\/\/|mailto:|tel:)/i;
  // Bare URLs and [title](url) links; the scheme is checked again before a link is made.
  var LINK_PATTERN =
    /\[([^\]\n]{1,200})\]\(([^)\s]{1,2000})\)|\b(?:https?:\/\/|mailto:)[^\s<>"]+|\btel:\+?[0-9][0-9 ()\/-]*[0-9]/gi;

  var config = {
    rasaUrl: (script.getAttribute("data-rasa-url") || window.location.origin).replace(/\/+$/, ""),
    privacyUrl: script.getAttribute("data-privacy-url") || "",
    title: script.getAttribute("data-title") || "Digitaler Assistent",
  };
  var webhookUrl = config.rasaUrl + "/webhooks/rest/webhook";
  var inboxUrl = config.rasaUrl + "/webhooks/rest/inbox";

  // --- storage (a blocked localStorage only loses the history, never the chat) ------------

  function load(key, fallback) {
    try {
      var value = window.localStorage.getItem(key);
      return value === null ? fallback : JSON.parse(value);
    } catch (error) {
      return fallback;
    }
  }

  function save(key, value) {
    try {
      window.localStorage.setItem(key, JSON.stringify(value));
    } catch (error) {
      /* private mode or full: the conversation goes on without history */
    }
  }

  function newSenderId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var hex = "";
    for (var i = 0; i < bytes.length; i++) {
      hex += ("0" + bytes[i].toString(16)).slice(-2);
    }
    return "web-" + hex;
  }

  function validTranscript(value) {
    if (!Array.isArray(value)) {
      return [];
    }
    return value.filter(function (entry) {
      return (
        entry &&
        (entry.from === "user" ||
          entry.from === "bot" ||
          entry.from === "staff" ||
          entry.from === "system") &&
        typeof entry.text === "string"
      );
    });
  }

  var sender = load(STORAGE_SENDER, null);
  if (typeof sender !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(sender)) {
    sender = newSenderId();
    save(STORAGE_SENDER, sender);
  }
  var transcript = validTranscript(load(STORAGE_TRANSCRIPT, []));

  // The handoff of this sender's conversation: whether a person has it, and the time of the
  // last message seen from the inbox (kept across handoffs, so none is shown twice).
  function loadHandoff() {
    var value = load(STORAGE_HANDOFF, null);
    if (
      value &&
      value.sender === sender &&
      typeof value.live === "boolean" &&
      typeof value.after === "number" &&
      isFinite(value.after)
    ) {
      return value;
    }
    return { sender: sender, live: false, after: 0 };
  }
  var handoff = loadHandoff();

  // --- DOM helpers ----------------------------------------------------------------------

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      if (name === "text") {
        node.textContent = attributes[name];
      } else {
        node.setAttribute(name, attributes[name]);
      }
    });
    (children || []).forEach(function (child) {
      node.appendChild(child);
    });
    return node;
  }

  function link(href, label) {
    return el("a", {
      href: href,
      text: label,
      target: "_blank",
      rel: "noopener noreferrer",
    });
  }

  // Text with its safe links, as DOM nodes. Line breaks stay (white-space: pre-wrap).
  function richText(text) {
    var fragment = document.createDocumentFragment();
    var last = 0;
    var match;
    LINK_PATTERN.lastIndex = 0;
    while ((match = LINK_PATTERN.exec(text)) !== null) {
      var whole = match[0];
      var label;
      var href;
      if (match[1] !== undefined) {
        label = match[1];
        href = match[2];
      } else {
        // A sentence's final punctuation is not part of the URL.
        var trimmed = whole.replace(/[.,;:!?)\]'"»“]+$/, "");
        LINK_PATTERN.lastIndex -= whole.length - trimmed.length;
        whole = trimmed;
        label = whole.replace(/^(mailto:|tel:)/i, "");
        href = whole;
      }
      if (!SAFE_SCHEMES.test(href)) {
        continue; // stays in the text as it is
      }
      fragment.appendChild(document.createTextNode(text.slice(last, match.index)));
      fragment.appendChild(link(href, label));
      last = match.index + whole.length;
    }
    fragment.appendChild(document.createTextNode(text.slice(last)));
    return fragment;
  }

  // --- the widget -----------------------------------------------------------------------

  var ids = { panel: "govbot-panel", input: "govbot-input", title: "govbot-title" };

  var launcher = el("button", {
    type: "button",
    class: "govbot-launcher",
    "aria-expanded": "false",
    "aria-controls": ids.panel,
  });
  launcher.appendChild(el("span", { class: "govbot-launcher-icon", "aria-hidden": "true" }));
  launcher.appendChild(el("span", { text: "Fragen Sie den Chat-Assistenten" }));

  var newButton = el("button", {
    type: "button",
    class: "govbot-header-button",
    text: "Neues Gespräch",
  });
  var closeButton = el("button", {
    type: "button",
    class: "govbot-header-button govbot-close",
    "aria-label": "Chat schließen",
  });
  closeButton.appendChild(el("span", { "aria-hidden": "true", text: "×" }));

  var header = el("div", { class: "govbot-header" }, [
    el("h2", { id: ids.title, class: "govbot-title", text: config.title }),
    el("div", { class: "govbot-header-actions" }, [newButton, closeButton]),
  ]);

  var notice = el("p", { class: "govbot-notice" });
  notice.appendChild(
    document.createTextNode(
      "Sie schreiben mit einem automatisierten Assistenten der Stadtverwaltung, nicht mit " +
        "einem Menschen. Seine Antworten können unvollständig sein; bitte geben Sie nur die " +
        "Angaben ein, nach denen er fragt. "
    )
  );
  if (config.privacyUrl) {
    notice.appendChild(link(config.privacyUrl, "Hinweise zum Datenschutz"));
  }

  var log = el("div", {
    class: "govbot-log",
    role: "log",
    "aria-live": "polite",
    "aria-relevant": "additions",
    "aria-label": "Gesprächsverlauf",
    tabindex: "-1",
  });
  var typing = el("div", { class: "govbot-typing", role: "status" });
  var error = el("p", { class: "govbot-error", role: "alert" });

  var input = el("textarea", {
    id: ids.input,
    class: "govbot-input",
    rows: "1",
    maxlength: String(MAX_MESSAGE_LENGTH),
    autocomplete: "off",
    enterkeyhint: "send",
    "aria-describedby": "govbot-input-help",
  });
  var sendButton = el("button", { type: "submit", class: "govbot-send", text: "Senden" });
  var form = el("form", { class: "govbot-form" }, [
    el("label", { for: ids.input, class: "govbot-visually-hidden", text: "Ihre Nachricht" }),
    el("span", {
      id: "govbot-input-help",
      class: "govbot-visually-hidden",
      text: "Eingabetaste sendet, Umschalt und Eingabetaste fügt eine neue Zeile ein.",
    }),
    input,
    sendButton,
  ]);

  var panel = el(
    "div",
    {
      id: ids.panel,
      class: "govbot-panel",
      role: "dialog",
      "aria-label": "Chat mit dem digitalen Assistenten der Stadt",
      hidden: "",
    },
    [header, el("div", { class: "govbot-scroll" }, [notice, log]), typing, error, form]
  );
  // A landmark of its own, so that the host page's landmarks stay intact.
  var root = el("aside", { class: "govbot-widget", lang: "de", "aria-label": "Chat-Assistent" }, [
    panel,
    launcher,
  ]);

  // --- rendering ------------------------------------------------------------------------

  var SPEAKERS = {
    user: { className: "govbot-user", label: "Sie: " },
    bot: { className: "govbot-bot", label: "Assistent: " },
    staff: { className: "govbot-staff", label: "" },
    system: { className: "govbot-system", label: "Hinweis: " },
  };

  function renderEntry(entry) {
    var speaker = SPEAKERS[entry.from] || SPEAKERS.bot;
    var bubble = el("div", { class: "govbot-message " + speaker.className });
    if (entry.from === "staff") {
      // A person writes: said visibly, not only to screen readers.
      bubble.appendChild(el("span", { class: "govbot-speaker", text: "Servicecenter" }));
      bubble.appendChild(el("span", { class: "govbot-visually-hidden", text: ": " }));
    } else {
      bubble.appendChild(el("span", { class: "govbot-visually-hidden", text: speaker.label }));
    }
    var body = el("span", { class: "govbot-text" });
    body.appendChild(richText(entry.text));
    bubble.appendChild(body);
    return bubble;
  }

  function renderButtons(buttons) {
    var group = el("div", {
      class: "govbot-buttons",
      role: "group",
      "aria-label": "Antwortvorschläge",
    });
    buttons.forEach(function (button) {
      var node = el("button", { type: "button", class: "govbot-quick", text: button.title });
      node.addEventListener("click", function () {
        input.focus(); // the pressed button goes away with the answer
        send(button.payload, button.title);
      });
      group.appendChild(node);
    });
    return group;
  }

  function scrollToEnd() {
    var scroller = panel.querySelector(".govbot-scroll");
    scroller.scrollTop = scroller.scrollHeight;
  }

  // Only the last bot message's buttons can still be pressed.
  function refreshButtons() {
    var old = log.querySelector(".govbot-buttons");
    if (old) {
      old.parentNode.removeChild(old);
    }
    var last = transcript[transcript.length - 1];
    if (last && last.from === "bot" && Array.isArray(last.buttons) && last.buttons.length) {
      log.appendChild(renderButtons(last.buttons));
    }
  }

  function renderAll() {
    while (log.firstChild) {
      log.removeChild(log.firstChild);
    }
    transcript.forEach(function (entry) {
      log.appendChild(renderEntry(entry));
    });
    refreshButtons();
    scrollToEnd();
  }

  function add(entry) {
    transcript.push(entry);
    if (transcript.length > MAX_KEPT_MESSAGES) {
      transcript = transcript.slice(-MAX_KEPT_MESSAGES);
    }
    save(STORAGE_TRANSCRIPT, transcript);
    var old = log.querySelector(".govbot-buttons");
    if (old) {
      old.parentNode.removeChild(old);
    }
    var node = renderEntry(entry);
    log.appendChild(node);
    refreshButtons();
    scrollToEnd();
    return node;
  }

  function removeLastUserEntry(node) {
    for (var i = transcript.length - 1; i >= 0; i--) {
      if (transcript[i].from === "user") {
        transcript.splice(i, 1);
        break;
      }
    }
    save(STORAGE_TRANSCRIPT, transcript);
    if (node && node.parentNode) {
      node.parentNode.removeChild(node);
    }
    refreshButtons();
  }

  function botEntries(messages) {
    if (!Array.isArray(messages)) {
      throw new Error("unexpected answer");
    }
    var entries = [];
    messages.forEach(function (message) {
      if (!message || typeof message !== "object") {
        return;
      }
      var text = typeof message.text === "string" ? message.text : "";
      var buttons = Array.isArray(message.buttons)
        ? message.buttons
            .filter(function (b) {
              return b && typeof b.title === "string" && typeof b.payload === "string";
            })
            .map(function (b) {
              return { title: b.title, payload: b.payload };
            })
        : [];
      if (text || buttons.length) {
        entries.push({ from: "bot", text: text, buttons: buttons });
      }
    });
    return entries;
  }

  // The server's markers among the answers: {handoff: "live"|"closed"|null, deleted: bool}.
  function markersOf(messages) {
    var markers = { handoff: null, deleted: false };
    messages.forEach(function (message) {
      var custom = message && typeof message === "object" ? message.custom : null;
      var govbot = custom && typeof custom === "object" ? custom.govbot : null;
      if (!govbot || typeof govbot !== "object") {
        return;
      }
      if (govbot.handoff === "live" || govbot.handoff === "closed") {
        markers.handoff = govbot.handoff;
      }
      if (govbot.delete_conversation === true) {
        markers.deleted = true;
      }
    });
    return markers;
  }

  // --- the service center's messages (human handoff) ------------------------------------

  var pollTimer = null;
  var polling = false;

  function saveHandoff() {
    save(STORAGE_HANDOFF, handoff);
  }

  function schedulePoll(delay) {
    if (pollTimer !== null) {
      window.clearTimeout(pollTimer);
    }
    pollTimer = window.setTimeout(poll, delay);
  }

  function startHandoff() {
    handoff.live = true;
    saveHandoff();
    schedulePoll(POLL_MS);
  }

  function stopHandoff() {
    handoff.live = false;
    saveHandoff();
    if (pollTimer !== null) {
      window.clearTimeout(pollTimer);
      pollTimer = null;
    }
  }

  function inboxEntries(messages) {
    var entries = [];
    (Array.isArray(messages) ? messages : []).forEach(function (message) {
      if (
        message &&
        typeof message.text === "string" &&
        message.text &&
        typeof message.at === "number" &&
        isFinite(message.at) &&
        (message.from === "staff" || message.from === "system")
      ) {
        entries.push({ from: message.from, text: message.text, at: message.at });
      }
    });
    return entries;
  }

  function poll() {
    pollTimer = null;
    if (!handoff.live || polling) {
      return;
    }
    polling = true;
    var asked = sender;
    var url =
      inboxUrl +
      "?sender=" +
      encodeURIComponent(sender) +
      "&after=" +
      encodeURIComponent(String(handoff.after));
    window
      .fetch(url, { method: "GET", credentials: "omit" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (inbox) {
        if (asked !== sender || !inbox || typeof inbox !== "object") {
          return; // a new conversation began meanwhile
        }
        inboxEntries(inbox.messages).forEach(function (entry) {
          handoff.after = Math.max(handoff.after, entry.at);
          add({ from: entry.from, text: entry.text });
        });
        saveHandoff();
        if (inbox.handoff !== "live") {
          stopHandoff();
        }
      })
      .catch(function () {
        /* the next round asks again */
      })
      .then(function () {
        polling = false;
        if (handoff.live && asked === sender) {
          schedulePoll(POLL_MS);
        }
      });
  }

  // --- talking to Rasa ------------------------------------------------------------------

  var waiting = false;

  function setWaiting(value) {
    waiting = value;
    sendButton.disabled = value;
    log.setAttribute("aria-busy", value ? "true" : "false");
    typing.textContent = "";
    if (value) {
      typing.appendChild(
        el("span", { class: "govbot-dots", "aria-hidden": "true" }, [
          el("span"),
          el("span"),
          el("span"),
        ])
      );
      typing.appendChild(
        el("span", { class: "govbot-typing-text", text: "Der Assistent schreibt …" })
      );
    }
    typing.classList.toggle("govbot-typing-active", value);
  }

  function showError(text) {
    error.textContent = text;
  }

  // message: what Rasa gets; shown: what the citizen sees as their message.
  function send(message, shown, restoreInput) {
    if (waiting) {
      return;
    }
    showError("");
    var node = add({ from: "user", text: shown });
    setWaiting(true);
    var controller = window.AbortController ? new AbortController() : null;
    var timer = window.setTimeout(function () {
      if (controller) {
        controller.abort();
      }
    }, TIMEOUT_MS);
    window
      .fetch(webhookUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender: sender, message: message }),
        signal: controller ? controller.signal : undefined,
        credentials: "omit",
      })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (messages) {
        var entries = botEntries(messages);
        var markers = markersOf(messages);
        if (markers.deleted) {
          // Deleted on the server: forget it here too; the confirmation starts the new one.
          forgetConversation();
        }
        if (markers.handoff === "live") {
          startHandoff();
        } else if (markers.handoff === "closed") {
          stopHandoff();
        }
        // While the service center has the conversation, silence is no missing answer.
        if (!entries.length && !handoff.live && !markers.handoff && !markers.deleted) {
          entries = [
            {
              from: "bot",
              text: "Dazu habe ich leider keine Antwort. Bitte formulieren Sie Ihre Frage anders.",
              buttons: [],
            },
          ];
        }
        entries.forEach(add);
      })
      .catch(function (failure) {
        removeLastUserEntry(node);
        if (restoreInput && !input.value) {
          input.value = restoreInput;
        }
        var timedOut = failure && failure.name === "AbortError";
        showError(
          (timedOut
            ? "Der Assistent antwortet gerade nicht rechtzeitig. "
            : "Der Assistent ist gerade nicht erreichbar. ") +
            "Bitte versuchen Sie es in einigen Minuten noch einmal." +
            (restoreInput ? " Ihre Nachricht steht noch im Eingabefeld." : "")
        );
      })
      .then(function () {
        window.clearTimeout(timer);
        setWaiting(false);
      });
  }

  function submitInput() {
    var text = input.value.trim();
    if (!text || waiting) {
      return;
    }
    input.value = "";
    send(text, text, text);
    input.focus();
  }

  // --- opening, closing, new conversation -----------------------------------------------

  function open(moveFocus) {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    root.classList.add("govbot-open");
    save(STORAGE_OPEN, true);
    scrollToEnd();
    if (moveFocus) {
      input.focus();
    }
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    root.classList.remove("govbot-open");
    save(STORAGE_OPEN, false);
    launcher.focus();
  }

  function forgetConversation() {
    stopHandoff();
    sender = newSenderId();
    save(STORAGE_SENDER, sender);
    handoff = { sender: sender, live: false, after: 0 };
    saveHandoff();
    transcript = [];
    save(STORAGE_TRANSCRIPT, transcript);
    renderAll();
  }

  function newConversation() {
    forgetConversation();
    showError("");
    input.value = "";
    input.focus();
  }

  launcher.addEventListener("click", function () {
    if (panel.hidden) {
      open(true);
    } else {
      close();
    }
  });
  closeButton.addEventListener("click", close);
  newButton.addEventListener("click", newConversation);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submitInput();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submitInput();
    }
  });
  var fullScreen = window.matchMedia("(max-width: 600px)");

  root.addEventListener("keydown", function (event) {
    if (panel.hidden) {
      return;
    }
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    } else if (event.key === "Tab" && fullScreen.matches) {
      // On a phone the chat covers the page: Tab goes round inside it.
      var focusable = Array.prototype.filter.call(
        panel.querySelectorAll("a[href], button:not([disabled]), textarea"),
        function (node) {
          return node.offsetParent !== null;
        }
      );
      var first = focusable[0];
      var last = focusable[focusable.length - 1];
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    }
  });

  function stylesheet() {
    var href = new URL("govbot-widget.css", script.src).href;
    if (!document.querySelector('link[data-govbot-widget]')) {
      document.head.appendChild(
        el("link", { rel: "stylesheet", href: href, "data-govbot-widget": "" })
      );
    }
  }

  function start() {
    stylesheet();
    document.body.appendChild(root);
    renderAll();
    if (load(STORAGE_OPEN, false) === true) {
      open(false); // restored after a reload: the page keeps its focus
    }
    if (handoff.live) {
      schedulePoll(0); // the service center still has the conversation
    }
  }

  window.GovBotWidget = { open: open, close: close, newConversation: newConversation };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
