"""Input channels of the Rasa server: REST (the web widget), Telegram, and the staff relay.

Rasa imports our channel modules (bot/credentials.yml) in the process that serves, after it
has set up its logging; importing this package is therefore the hook that installs the
redaction of personal data from the Rasa server's logs (forms.privacy). ``bot/run_rasa.py``
cannot do it: it replaces itself with Rasa (``os.execv``).
"""

from forms.privacy import install_log_redaction

install_log_redaction()
