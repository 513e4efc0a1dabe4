"""The out-of-scope counting of `make eval` (bot/evaluate.py), without a trained model."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import evaluate
from bot.evaluate import Message, Prediction, Rejection

ROOT = Path(__file__).resolve().parents[2]


def predicted(intent: str, confidence: float, label: str = "weather", text: str = "") -> Prediction:
    return Prediction(text=text or f"{intent} {confidence}", label=label, intent=intent,
                      confidence=confidence)  # fmt: skip


@pytest.mark.parametrize(
    ("intent", "confidence", "rejected"),
    [
        ("out_of_scope", 0.99, True),
        ("nlu_fallback", 0.55, True),
        ("ask_fees", 0.54, True),  # below the threshold
        ("ask_fees", 0.55, False),  # at the threshold: the FallbackClassifier lets it pass
        ("ask_fees", 0.97, False),
    ],
)
def test_a_message_is_rejected_by_intent_or_by_low_confidence(
    intent: str, confidence: float, rejected: bool
) -> None:
    assert evaluate.is_rejected(intent, confidence, threshold=0.55) is rejected


@pytest.mark.parametrize(
    ("in_form", "rejected"), [(False, True), (True, False)], ids=["outside", "in a form"]
)
def test_a_bare_statement_is_rejected_only_outside_a_form(in_form: bool, rejected: bool) -> None:
    # Outside a form, action_form_step answers `inform` with the out-of-scope answer.
    assert evaluate.is_rejected("inform", 0.99, threshold=0.55, in_form=in_form) is rejected
    assert evaluate.is_rejected("affirm", 0.99, threshold=0.55, in_form=in_form) is False


def test_held_out_answers_of_a_form_are_measured_in_a_form() -> None:
    rejection = Rejection(
        threshold=0.5,
        off_topic=[predicted("inform", 0.99, label="nonsense", text="test test")],
        in_scope=[
            predicted("inform", 0.99, label="inform"),  # an answer to a form's question
            predicted("inform", 0.99, label="ask_fees"),  # asked outside a form
        ],
    )
    assert rejection.oos_rejection_rate == 1.0
    assert [p.label for p in rejection.wrongly_rejected] == ["ask_fees"]


def test_rates_count_off_topic_and_in_scope_messages_separately() -> None:
    rejection = Rejection(
        threshold=0.5,
        off_topic=[
            predicted("out_of_scope", 0.9),
            predicted("nlu_fallback", 0.5),
            predicted("greet", 0.3, label="nonsense"),  # low confidence: rejected
            predicted("ask_opening_hours", 0.8, label="shops", text="Wann hat Rewe auf?"),
        ],
        in_scope=[
            predicted("ask_fees", 0.9, label="ask_fees"),
            predicted("ask_fees", 0.4, label="ask_fees"),  # wrongly rejected
            predicted("greet", 0.9, label="greet"),
            predicted("greet", 0.8, label="greet"),
            predicted("thank", 0.7, label="thank"),
        ],
    )
    assert rejection.oos_rejection_rate == 0.75
    assert rejection.in_scope_rejection_rate == 0.2
    assert [p.text for p in rejection.not_rejected] == ["Wann hat Rewe auf?"]
    assert rejection.by_label(rejection.off_topic) == {
        "nonsense": (1, 1), "shops": (0, 1), "weather": (2, 2)
    }  # fmt: skip
    assert rejection.by_label(rejection.in_scope)["ask_fees"] == (1, 2)
    assert not rejection.meets_targets


def test_the_targets_are_met_only_with_both_rates() -> None:
    off_topic = [predicted("out_of_scope", 0.9)] * 9 + [predicted("ask_fees", 0.9)]
    in_scope = [predicted("ask_fees", 0.9, label="ask_fees")] * 100
    assert Rejection(0.5, off_topic, in_scope).meets_targets  # 0.90 and 0.00
    in_scope_bad = in_scope[:96] + [predicted("nlu_fallback", 0.5, label="ask_fees")] * 4
    assert not Rejection(0.5, off_topic, in_scope_bad).meets_targets  # 0.04 rejected
    assert not Rejection(0.5, off_topic[1:] + off_topic[-1:], in_scope).meets_targets  # 0.8


def test_no_messages_give_zero_rates_not_a_division_error() -> None:
    rejection = Rejection(0.5, [], [])
    assert rejection.oos_rejection_rate == 0.0
    assert rejection.in_scope_rejection_rate == 0.0


def test_a_prediction_keeps_what_the_model_would_have_answered_behind_a_fallback() -> None:
    parsed = {
        "intent": {"name": "nlu_fallback", "confidence": 0.55},
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.55},
            {"name": "ask_location", "confidence": 0.41},
            {"name": "ask_fees", "confidence": 0.30},
        ],
    }
    prediction = evaluate.prediction(Message("Wo ist die Tanke?", "shops"), parsed)
    assert (prediction.intent, prediction.confidence) == ("nlu_fallback", 0.55)
    assert prediction.runner_up == "ask_location"
    empty = evaluate.prediction(Message("", "nonsense"), {"intent": None})
    assert (empty.intent, empty.confidence, empty.runner_up) == ("", 0.0, "")


def test_the_threshold_is_read_from_the_rasa_config(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(
        "pipeline:\n  - name: WhitespaceTokenizer\n"
        "  - name: FallbackClassifier\n    threshold: 0.42\n    ambiguity_threshold: 0.1\n"
    )
    assert evaluate.fallback_threshold(config) == 0.42
    config.write_text("pipeline:\n  - name: FallbackClassifier\n")
    assert evaluate.fallback_threshold(config) == 0.3  # Rasa's default
    config.write_text("pipeline:\n  - name: DIETClassifier\n")
    with pytest.raises(ValueError, match="no FallbackClassifier"):
        evaluate.fallback_threshold(config)
    assert 0 < evaluate.fallback_threshold(ROOT / evaluate.CONFIG) < 1


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "out_of_scope.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_off_topic_file_is_loaded_with_categories(tmp_path: Path) -> None:
    path = write(tmp_path, 'examples:\n  weather:\n    - "Regnet es?"\n  nonsense:\n    - asdf\n')
    assert evaluate.load_out_of_scope(path) == [
        Message("Regnet es?", "weather"), Message("asdf", "nonsense")
    ]  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        'examples:\n  weather:\n    - "Regnet es?"\n  sports:\n    - "regnet  es"\n',
        'examples:\n  weather:\n    - "Regnet es?"\n    - "Regnet es?"\n',
    ],
)
def test_duplicate_messages_are_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(ValueError, match=r"duplicate messages: '[Rr]egnet"):
        evaluate.load_out_of_scope(write(tmp_path, text))


def test_messages_of_the_held_out_file_or_the_training_data_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, 'examples:\n  weather:\n    - "Wie wird das Wetter?"\n    - "Hagel?"\n')
    with pytest.raises(ValueError, match="'Wie wird das Wetter\\?'") as refused:
        evaluate.load_out_of_scope(path, forbidden=["wie wird das  wetter", "Grüß Gott"])
    assert "Hagel" not in str(refused.value)


@pytest.mark.parametrize(
    "text",
    ["nlu:\n  - intent: out_of_scope\n", "examples:\n  - Regnet es?\n",
     "examples:\n  weather: Regnet es?\n", 'examples:\n  weather:\n    - ""\n',
     "examples:\n  weather:\n    - 42\n"],
)  # fmt: skip
def test_a_malformed_file_is_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(ValueError):
        evaluate.load_out_of_scope(write(tmp_path, text))


@pytest.mark.parametrize("source", [evaluate.OUT_OF_SCOPE, *evaluate.OUT_OF_SCOPE_EARLIER])
def test_the_real_files_repeat_neither_the_held_out_file_nor_the_training_data(
    source: Path,
) -> None:
    forbidden = [m.text for m in evaluate.load_labelled(evaluate.HELD_OUT)]
    forbidden += [m.text for m in evaluate.load_labelled(evaluate.TRAINING_NLU)]
    messages = evaluate.load_out_of_scope(ROOT / source, forbidden)
    assert len(messages) >= 100


def test_content_words_leave_out_stop_words_and_case() -> None:
    assert evaluate.content_words("Wie wird das Wetter in HAMBURG?") == {"wetter", "hamburg"}
    assert evaluate.content_words("und die der") == frozenset()


def test_near_duplicates_are_found_by_content_words() -> None:
    messages = [
        Message("Wie wird denn das Wetter morgen?", "weather"),  # same content words
        Message("Wird es morgen in Hamburg regnen?", "weather"),  # 1 of 3 content words
        Message("und die der", "nonsense"),  # no content words: only a copy would count
        Message("Und die der?", "nonsense"),
    ]
    training = ["wie wird morgen das wetter", "regnen in Berlin", "der die das", "und  die der"]

    close = evaluate.near_duplicates(messages, training)

    copies = {messages[2]: "und  die der", messages[3]: "und  die der"}
    assert close == {messages[0]: "wie wird morgen das wetter", **copies}
    assert evaluate.near_duplicates(messages, training, threshold=0.2) == {
        messages[0]: "wie wird morgen das wetter",
        messages[1]: "regnen in Berlin",
        **copies,
    }


def test_the_section_replaces_only_itself_in_the_readme() -> None:
    section = f"{evaluate.SECTION_START}\n## Out-of-scope rejection\nnew\n{evaluate.SECTION_END}"
    old = section.replace("new", "old")
    document = f"# NLU evaluation\n\n## Held-out\nkept\n\n{old}\n\nConfusion matrices\n"
    replaced = evaluate.replace_section(document, section)
    assert replaced == document.replace(old, section)
    appended = evaluate.replace_section("# NLU evaluation\n\nkept\n", section)
    assert appended == f"# NLU evaluation\n\nkept\n\n{section}\n"
    assert evaluate.replace_section(appended, section) == appended


def test_the_section_names_its_command_and_the_messages_that_got_through() -> None:
    rejection = Rejection(
        threshold=0.55,
        off_topic=[
            predicted("out_of_scope", 0.9),
            predicted("ask_status", 0.8, label="shops", text="Wo ist mein Paket | DHL?"),
        ],
        in_scope=[predicted("ask_fees", 0.9, label="ask_fees")],
    )
    earlier = Rejection(
        threshold=0.55,
        off_topic=[predicted("out_of_scope", 0.9)],
        in_scope=rejection.in_scope,
        source=evaluate.OUT_OF_SCOPE_EARLIER[0],
        left_out={"Wie wird das Wetter morgen?": "wie wird morgen das wetter"},
    )
    text = evaluate.rejection_markdown(
        [rejection, earlier],
        "python -m bot.evaluate --oos-only",
        ROOT / "models/govbot-x.tar.gz",
        "today",
    )
    assert text.startswith(evaluate.SECTION_START) and text.endswith(evaluate.SECTION_END)
    assert "`python -m bot.evaluate --oos-only` on today, model `models/govbot-x.tar.gz`" in text
    assert "cores" in text
    assert (
        f"on `{evaluate.OUT_OF_SCOPE}`: **0.500** (1 of 2; target ≥ 0.90) — **below the target**"
    ) in text
    assert f"on `{evaluate.OUT_OF_SCOPE_EARLIER[0]}`: **1.000** (1 of 1; not judged)" in text
    assert "| Wie wird das Wetter morgen? | wie wird morgen das wetter |" in text
    assert "**0.000** (0 of 1; target ≤ 0.03) — meets the target" in text
    assert "| Wo ist mein Paket \\| DHL? | shops | ask_status | service | 0.80 |" in text
    assert "service 1, form dialogue 0" in text
    assert "(0.55)" in text


@pytest.mark.parametrize(
    ("intent", "kind"),
    [("ask_fees", "service"), ("choose_service", "service"), ("inform", "form dialogue"),
     ("cancel", "form dialogue"), ("bot_challenge", "small talk or handoff"),
     ("request_human", "small talk or handoff")],
)  # fmt: skip
def test_messages_that_got_through_are_told_apart_by_what_the_bot_answers(
    intent: str, kind: str
) -> None:
    assert evaluate.answer_kind(intent) == kind


def test_the_service_is_scored_per_message_by_its_values() -> None:
    examples = [
        ("Was kostet ein Pass?", frozenset({"reisepass"})),
        ("Ich ziehe um", frozenset({"wohnsitz-ummelden"})),
        ("Hallo", frozenset()),
        ("Hund und Pass", frozenset({"hundeanmeldung", "reisepass"})),
        ("Wie spät ist es?", frozenset()),
    ]
    predicted = [
        frozenset({"reisepass"}),  # right
        frozenset(),  # missed
        frozenset(),  # right: no service
        frozenset({"reisepass"}),  # one of two
        frozenset({"sperrmuell"}),  # named where none was
    ]
    score = evaluate.score_services(examples, predicted)
    assert (score.true_positives, score.false_positives, score.false_negatives) == (2, 1, 2)
    assert score.precision == 2 / 3
    assert score.recall == 0.5
    assert score.f1 == 4 / 7
    assert [d[0] for d in score.differences] == [
        "Ich ziehe um",
        "Hund und Pass",
        "Wie spät ist es?",
    ]
    assert score.differences[1] == ("Hund und Pass", "hundeanmeldung, reisepass", "reisepass")
    empty = evaluate.score_services([], [])
    assert (empty.precision, empty.recall, empty.f1) == (0.0, 0.0, 0.0)


def report(accuracy: float, service_f1_counts: tuple[int, int, int]) -> evaluate.Report:
    tp, fp, fn = service_f1_counts
    return evaluate.Report(
        title="held out",
        intents={"accuracy": accuracy},
        entities={},
        services=evaluate.ServiceScore(100, tp, fp, fn),
    )


def test_the_gates_fail_below_their_numbers_and_name_what_failed() -> None:
    good = report(evaluate.GATE_INTENT_ACCURACY, (99, 1, 1))
    assert evaluate.check(good, []) == []
    worse = report(evaluate.GATE_INTENT_ACCURACY - 0.001, (80, 10, 10))
    failed = evaluate.check(worse, [])
    assert len(failed) == 2
    assert failed[0].startswith("intent accuracy")
    assert failed[1] == f"service F1 0.889 < {evaluate.GATE_SERVICE_F1}"
    # A report without a service score fails the service gate rather than passing it.
    assert evaluate.check(evaluate.Report("x", {"accuracy": 1.0}, {}), []) == [
        f"service F1 0.000 < {evaluate.GATE_SERVICE_F1}"
    ]


def test_the_service_confusion_picture_is_written(tmp_path: Path) -> None:
    from bot.evaluate import service_confusion

    picture = tmp_path / "services.png"
    examples = [("a", frozenset({"reisepass"})), ("b", frozenset({"personalausweis"}))]
    service_confusion(examples, [frozenset({"reisepass"}), frozenset()], picture)
    assert picture.read_bytes().startswith(b"\x89PNG")


# Messages that were in the training data before the blind set was written, and that its
# writer wrote too by chance ("hallo", "danke", "was kostet das?"): 45, none added since.
BLIND_SET_COINCIDENCES = 45


def test_no_training_example_is_added_from_the_blind_set() -> None:
    """A training example word for word in the blind set would judge itself. The count only
    is compared, so that a failure shows no blind message."""
    from tests.eval.end_to_end import load

    blind = load()
    texts = {evaluate.normalise(str(item["text"])) for group in blind.values() for item in group}
    training = {evaluate.normalise(m.text) for m in evaluate.load_labelled(evaluate.TRAINING_NLU)}
    shared = len(texts & training)
    assert len(texts) > 600
    assert shared <= BLIND_SET_COINCIDENCES, f"{shared} training examples are in the blind set"
