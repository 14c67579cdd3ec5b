"""The ten national dossier statuses and every edge of the state machine, allowed and forbidden."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from core.dossier_status import (
    CLOCK_RUNNING,
    TERMINAL,
    WITHDRAWABLE,
    DossierStatus,
    can_transition,
    check_transition,
    replay,
)
from core.errors import DomainError, ErrorCode

S = DossierStatus

# The expected table, written from the rule text (not from the implementation):
# submitted -> accepted or not accepted; accepted -> processing; processing -> supplement requested /
# payment requested -> back to processing; processing -> processed -> returned.
_FLOW = {
    (S.SUBMITTED, S.ACCEPTED),
    (S.SUBMITTED, S.NOT_ACCEPTED),
    (S.ACCEPTED, S.PROCESSING),
    (S.PROCESSING, S.SUPPLEMENT_REQUESTED),
    (S.SUPPLEMENT_REQUESTED, S.PROCESSING),
    (S.PROCESSING, S.PAYMENT_REQUESTED),
    (S.PAYMENT_REQUESTED, S.PROCESSING),
    (S.PROCESSING, S.PROCESSED),
    (S.PROCESSED, S.RETURNED),
}
# The citizen may request withdrawal from these.
_CITIZEN_MAY_WITHDRAW_FROM = {S.SUBMITTED, S.ACCEPTED, S.PROCESSING, S.SUPPLEMENT_REQUESTED, S.PAYMENT_REQUESTED}
# The agency may stop processing from these.
_AGENCY_MAY_STOP_FROM = {S.ACCEPTED, S.PROCESSING, S.SUPPLEMENT_REQUESTED, S.PAYMENT_REQUESTED,
                         S.WITHDRAWAL_REQUESTED}
ALLOWED: frozenset[tuple[DossierStatus, DossierStatus]] = frozenset(
    _FLOW
    | {(s, S.WITHDRAWAL_REQUESTED) for s in _CITIZEN_MAY_WITHDRAW_FROM}
    | {(s, S.PROCESSING_STOPPED) for s in _AGENCY_MAY_STOP_FROM}
)
# "Nothing after returned, not_accepted, processing_stopped."
_FINAL = {S.RETURNED, S.NOT_ACCEPTED, S.PROCESSING_STOPPED}

# The national codes 1..10 in the documented order, with the documented labels.
_DOCUMENTED = [
    ("submitted", "Mới đăng ký", "submitted"),
    ("accepted", "Được tiếp nhận", "accepted"),
    ("not_accepted", "Không được tiếp nhận", "not accepted"),
    ("processing", "Đang xử lý", "processing"),
    ("supplement_requested", "Yêu cầu bổ sung giấy tờ", "supplement requested"),
    ("payment_requested", "Yêu cầu thực hiện nghĩa vụ tài chính", "payment requested"),
    ("withdrawal_requested", "Công dân yêu cầu rút hồ sơ", "withdrawal requested"),
    ("processing_stopped", "Dừng xử lý", "processing stopped"),
    ("processed", "Đã xử lý xong", "processed, result ready"),
    ("returned", "Đã trả kết quả", "result returned"),
]

_PAIRS = list(itertools.product(list(S), repeat=2))


def test_the_expected_table_is_what_the_rules_say() -> None:
    # A sanity check on the table itself: 9 flow edges, 5 withdrawals, 5 stops, none shared.
    assert len(ALLOWED) == 19
    assert {s for s in S if not any(a == s for a, _ in ALLOWED)} == _FINAL


@pytest.mark.parametrize(("current", "target"), _PAIRS, ids=[f"{a}->{b}" for a, b in _PAIRS])
def test_every_pair_of_statuses(current: DossierStatus, target: DossierStatus) -> None:
    allowed = (current, target) in ALLOWED
    assert can_transition(current, target) is allowed
    if allowed:
        check_transition(current, target)
        return
    with pytest.raises(DomainError) as info:
        check_transition(current, target)
    error = info.value
    assert error.code is ErrorCode.INVALID_TRANSITION
    assert current.label_vi in error.message_vi
    assert target.label_vi in error.message_vi
    assert current.label_en in error.message_en
    assert target.label_en in error.message_en
    assert error.errors[0].code is ErrorCode.INVALID_TRANSITION


def test_terminal_withdrawable_and_clock_running_sets() -> None:
    assert TERMINAL == _FINAL
    assert WITHDRAWABLE == _CITIZEN_MAY_WITHDRAW_FROM
    assert CLOCK_RUNNING == {S.SUBMITTED, S.ACCEPTED, S.PROCESSING}


def test_every_status_is_reachable_from_submitted() -> None:
    seen, frontier = {S.SUBMITTED}, [S.SUBMITTED]
    while frontier:
        current = frontier.pop()
        for target in S:
            if can_transition(current, target) and target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(S)


def test_there_are_exactly_ten_statuses() -> None:
    assert [s.value for s in S] == [value for value, _, _ in _DOCUMENTED]


@pytest.mark.parametrize(("number", "documented"), list(enumerate(_DOCUMENTED, start=1)))
def test_national_codes_and_labels(number: int, documented: tuple[str, str, str]) -> None:
    value, label_vi, label_en = documented
    status = DossierStatus(value)
    assert status.national_code == number
    assert DossierStatus.from_national_code(number) is status
    assert status.label_vi == label_vi
    assert status.label_en.lower() == label_en


def test_national_code_round_trip() -> None:
    assert [DossierStatus.from_national_code(s.national_code) for s in S] == list(S)
    assert sorted(s.national_code for s in S) == list(range(1, 11))


@pytest.mark.parametrize("number", [0, -1, 11, 100])
def test_unknown_national_codes_are_refused(number: int) -> None:
    with pytest.raises(ValueError, match=str(number)):
        DossierStatus.from_national_code(number)


def test_replay_of_the_happy_path() -> None:
    history = [S.SUBMITTED, S.ACCEPTED, S.PROCESSING, S.SUPPLEMENT_REQUESTED, S.PROCESSING,
               S.PAYMENT_REQUESTED, S.PROCESSING, S.PROCESSED, S.RETURNED]
    assert replay(history) is S.RETURNED
    assert replay([S.SUBMITTED]) is S.SUBMITTED
    assert replay([S.SUBMITTED, S.WITHDRAWAL_REQUESTED, S.PROCESSING_STOPPED]) is S.PROCESSING_STOPPED


@pytest.mark.parametrize(
    "history",
    [
        [],
        [S.ACCEPTED],
        [S.PROCESSING, S.PROCESSED],
        [S.SUBMITTED, S.SUBMITTED],
    ],
    ids=["empty", "starts-accepted", "starts-processing", "submitted-twice"],
)
def test_replay_refuses_a_history_that_does_not_start_properly(history: list[DossierStatus]) -> None:
    with pytest.raises(DomainError) as info:
        replay(history)
    assert info.value.code is ErrorCode.INVALID_TRANSITION


def test_replay_names_the_first_impossible_step() -> None:
    with pytest.raises(DomainError) as info:
        replay([S.SUBMITTED, S.ACCEPTED, S.PROCESSING, S.PROCESSED, S.RETURNED, S.PROCESSING])
    assert info.value.code is ErrorCode.INVALID_TRANSITION
    assert S.RETURNED.label_vi in info.value.message_vi
    assert S.PROCESSING.label_vi in info.value.message_vi
    assert S.RETURNED.label_en in info.value.message_en


@st.composite
def _walks(draw: st.DrawFn) -> list[DossierStatus]:
    walk = [S.SUBMITTED]
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        options = sorted((b for a, b in ALLOWED if a == walk[-1]), key=lambda s: s.national_code)
        if not options:
            break
        walk.append(draw(st.sampled_from(options)))
    return walk


@given(_walks())
def test_replay_of_any_allowed_walk_ends_where_the_walk_ends(walk: list[DossierStatus]) -> None:
    assert replay(walk) is walk[-1]


@given(_walks(), st.sampled_from(list(S)))
def test_replay_refuses_a_walk_with_one_forbidden_step(walk: list[DossierStatus], bad: DossierStatus) -> None:
    assume((walk[-1], bad) not in ALLOWED)
    with pytest.raises(DomainError) as info:
        replay([*walk, bad])
    assert info.value.code is ErrorCode.INVALID_TRANSITION
