"""Property-based tests of the two gates every wallet request passes: signature and body."""

import json
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.signing import wallet_signature, wallet_signature_valid
from wallet.contract import CREDIT_KINDS, MAX_AMOUNT_MINOR, validate_credit_request, validate_debit_request

SECRETS = ["secret-current", "secret-next"]
NOW = 1_800_000_000
# Lone surrogates are refused (no database stores them), and so are control characters and dot segments
# (hub.json_input.id_problem: ids reach logs and the Operator's URLs)
text_ids = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1,
                   max_size=64).filter(lambda text: text.strip() and text not in (".", ".."))


@given(body=st.binary(max_size=2048), skew=st.integers(-300, 300), secret=st.sampled_from(SECRETS))
def test_any_body_signed_with_a_current_secret_within_tolerance_verifies(body, skew, secret):
    timestamp = str(NOW + skew)
    signature = wallet_signature(body=body, timestamp=timestamp, secret=secret)

    assert wallet_signature_valid(body=body, timestamp=timestamp, signature=signature, secrets=SECRETS,
                                  tolerance_seconds=300, now=NOW)


@given(body=st.binary(min_size=1, max_size=512), index=st.integers(min_value=0), flip=st.integers(1, 255))
def test_changing_any_byte_of_the_body_breaks_the_signature(body, index, flip):
    timestamp = str(NOW)
    signature = wallet_signature(body=body, timestamp=timestamp, secret=SECRETS[0])
    position = index % len(body)
    tampered = body[:position] + bytes([body[position] ^ flip]) + body[position + 1:]

    assert not wallet_signature_valid(body=tampered, timestamp=timestamp, signature=signature, secrets=SECRETS,
                                      tolerance_seconds=300, now=NOW)


@given(body=st.binary(max_size=256), skew=st.integers(301, 10**9) | st.integers(-(10**9), -301))
def test_timestamps_outside_the_tolerance_never_verify(body, skew):
    timestamp = str(NOW + skew) if NOW + skew >= 0 else "0"
    signature = wallet_signature(body=body, timestamp=timestamp, secret=SECRETS[0])

    assert not wallet_signature_valid(body=body, timestamp=timestamp, signature=signature, secrets=SECRETS,
                                      tolerance_seconds=300, now=NOW)


@given(body=st.binary(max_size=256), secret=st.text(min_size=1, max_size=40).filter(lambda s: s not in SECRETS),
       timestamp=st.text(max_size=20))
def test_other_secrets_and_malformed_timestamps_never_verify(body, secret, timestamp):
    signature = wallet_signature(body=body, timestamp=str(NOW), secret=secret)

    assert not wallet_signature_valid(body=body, timestamp=str(NOW), signature=signature, secrets=SECRETS,
                                      tolerance_seconds=300, now=NOW)
    if not timestamp.isdigit():
        good = wallet_signature(body=body, timestamp=timestamp, secret=SECRETS[0])
        assert not wallet_signature_valid(body=body, timestamp=timestamp, signature=good, secrets=SECRETS,
                                          tolerance_seconds=300, now=time.time())


def storable_text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=max_size)


valid_bodies = st.fixed_dictionaries(
    {"playerId": text_ids, "amountCents": st.integers(1, MAX_AMOUNT_MINOR), "currency": st.sampled_from(["USD", "EUR", "GBP"]),
     "refId": text_ids},
    optional={"meta": st.dictionaries(storable_text(10), st.integers() | storable_text(20), max_size=5)},
)


@given(valid_bodies)
def test_every_well_formed_body_is_accepted_as_sent(body):
    request, errors = validate_debit_request(json.loads(json.dumps(body)))

    assert errors == {}
    assert (request.player_id, request.amount_minor, request.currency, request.ref_id) == (
        body["playerId"], body["amountCents"], body["currency"], body["refId"])


not_an_integer = (st.floats(allow_nan=True) | st.text(max_size=8) | st.booleans() | st.none()
                  | st.lists(st.integers(), max_size=2) | st.integers(max_value=0) | st.integers(min_value=MAX_AMOUNT_MINOR + 1))


@settings(max_examples=300)
@given(valid_bodies, not_an_integer, st.dictionaries(st.text(min_size=1, max_size=8).filter(
    lambda k: k not in {"playerId", "amountCents", "currency", "refId", "meta", "roundId", "roundClosed"}), st.integers(), max_size=3))
def test_bad_amounts_and_unknown_fields_are_all_reported_together(body, amount, extra):
    request, errors = validate_debit_request({**body, "amountCents": amount, **extra})

    assert request is None
    assert "amountCents" in errors
    assert set(extra) <= set(errors)


round_fields = st.fixed_dictionaries({}, optional={"roundId": text_ids, "betRefId": text_ids,
                                                   "kind": st.sampled_from(CREDIT_KINDS)})


@given(valid_bodies, round_fields, st.booleans())
def test_every_well_formed_credit_with_round_fields_is_accepted_as_sent(body, extra, closed):
    if "roundId" in extra:
        extra["roundClosed"] = closed
    request, errors = validate_credit_request(json.loads(json.dumps({**body, **extra})))

    assert errors == {}
    assert (request.round_id, request.round_closed, request.bet_ref_id, request.kind) == (
        extra.get("roundId", ""), extra.get("roundClosed", False), extra.get("betRefId", ""), extra.get("kind", "WIN"))


not_a_choice = st.text(max_size=12).filter(lambda s: s not in CREDIT_KINDS) | st.integers() | st.none() | st.booleans()
not_a_boolean = st.integers() | st.text(max_size=5) | st.none() | st.lists(st.booleans(), max_size=1)


@settings(max_examples=200)
@given(valid_bodies, not_a_choice, not_a_boolean, st.text(max_size=0) | st.text(min_size=65, max_size=80) | st.integers())
def test_bad_round_fields_are_each_reported(body, kind, closed, round_id):
    credit, credit_errors = validate_credit_request({**body, "kind": kind, "roundClosed": closed, "roundId": round_id})
    debit, debit_errors = validate_debit_request({**body, "kind": "WIN", "betRefId": "b", "roundClosed": True})

    assert credit is None and debit is None
    assert {"kind", "roundClosed", "roundId"} <= set(credit_errors)
    assert debit_errors == {"kind": ["Unknown field."], "betRefId": ["Unknown field."],
                            "roundClosed": ["Needs a roundId."]}
