"""What a notification says, in Vietnamese or English: the dossier code, the procedure and the new status.

Never an ID number, a name or an address: a push travels through foreign infrastructure (FCM, APNs) and
sits on a lock screen. SMS texts can drop diacritics for old handsets and respect GSM-7 lengths (160
characters in one SMS; a character outside GSM-7 forces UCS-2 and 70).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from core.dossier_status import DossierStatus
from core.outbox import ACTION_NEEDED

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€")
GSM7_LIMIT, UCS2_LIMIT = 160, 70


@dataclass(frozen=True)
class Subject:
    """The facts a notification may carry; nothing personal."""

    dossier_code: str
    procedure_name_vi: str
    procedure_name_en: str
    status: DossierStatus


@dataclass(frozen=True)
class PushText:
    title: str
    body: str


def push_text(subject: Subject, locale: str) -> PushText:
    if locale == "en":
        return PushText(title=f"Dossier {subject.dossier_code}: {subject.status.label_en}",
                        body=subject.procedure_name_en)
    return PushText(title=f"Hồ sơ {subject.dossier_code}: {subject.status.label_vi}",
                    body=subject.procedure_name_vi)


def strip_diacritics(text: str) -> str:
    """Vietnamese without marks, case kept ("Đăng ký" -> "Dang ky")."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def gsm7_length(text: str) -> int | None:
    """Septets the text needs, or None when it cannot be sent as GSM-7."""
    length = 0
    for ch in text:
        if ch in GSM7_BASIC:
            length += 1
        elif ch in GSM7_EXTENDED:
            length += 2
        else:
            return None
    return length


def sms_fits(text: str) -> bool:
    septets = gsm7_length(text)
    return septets <= GSM7_LIMIT if septets is not None else len(text) <= UCS2_LIMIT


def sms_text(subject: Subject, *, ascii_only: bool) -> str:
    """One SMS: shortens the procedure name (then drops it) rather than spill into a second message."""
    hint = " Vui long mo ung dung DVC de xem." if subject.status in ACTION_NEEDED else ""
    if not ascii_only:
        hint = " Vui lòng mở ứng dụng DVC để xem." if hint else ""
    label, name = subject.status.label_vi, subject.procedure_name_vi
    if ascii_only:
        label, name = strip_diacritics(label), strip_diacritics(name)

    def compose(procedure: str) -> str:
        middle = f" ({procedure})" if procedure else ""
        text = f"DVC: Ho so {subject.dossier_code}{middle}: {label}.{hint}"
        return text if ascii_only else text.replace("Ho so", "Hồ sơ", 1)

    text = compose(name)
    cut = len(name)
    while not sms_fits(text) and cut > 0:
        cut -= 1
        text = compose(name[:cut].rstrip() + "..." if cut > 3 else "")
    if not sms_fits(text):
        text = text[:GSM7_LIMIT if gsm7_length(text) is not None else UCS2_LIMIT]
    return text
