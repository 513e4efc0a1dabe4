"""Input channels of the Rasa server: REST (the web widget), Telegram, and the staff relay.

Rasa imports our channel modules (bot/credentials.yml) in the process that serves, after it
has set up its logging; importing this package is therefore the hook that installs the
redaction of personal data from the Rasa server's logs (forms.privacy). ``bot/run_rasa.py``
cannot do it: it replaces itself with Rasa (``os.execv``). The same holds for the action
timeout that Rasa has no setting for (channels/rasa_patches.py).
"""

from channels import rasa_patches
from forms.privacy import install_log_redaction

install_log_redaction()
rasa_patches.apply()
