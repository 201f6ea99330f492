"""The provider aggregate as rows of the directory tables, and back (JSON columns hold the small value lists)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import RowMapping

from referral.domain.agreements import Agreement, AgreementKind
from referral.domain.providers import Capacity, Contact, Provider, ProviderStatus, ProviderType
from referral.domain.service_types import CodeListChange, ServiceType
from referral.domain.vetting import LegalDocument, LegalDocumentKind, Score, Vetting, YearsWithChildren

Row = RowMapping
SCORE_FIELDS = ("legality", "track_record", "vision_and_mission", "child_orientation", "years_with_children")


def provider_row(provider: Provider, now: dt.datetime) -> dict[str, Any]:
    """The `providers` row (districts, vettings and agreements have their own tables)."""
    scored = provider.scored
    return {
        "provider_id": provider.provider_id, "organisation": provider.organisation,
        "provider_type": provider.provider_type.value,
        "contacts": [{"name": c.name, "role": c.role, "phone": c.phone, "email": c.email} for c in provider.contacts],
        "catalogue": sorted(provider.catalogue), "capacity": provider.capacity.value,
        "status": provider.status.value,
        "scored": None if scored is None else {name: getattr(scored, name) for name in SCORE_FIELDS},
        "updated_at": now,
    }


def vetting_row(provider_id: str, vetting: Vetting) -> dict[str, Any]:
    """A `provider_vettings` row."""
    return {
        "vetting_id": vetting.vetting_id, "provider_id": provider_id,
        "documents": [{"kind": d.kind.value, "reference": d.reference, "valid_from": d.valid_from.isoformat(),
                       "expires_on": d.expires_on.isoformat() if d.expires_on else None} for d in vetting.documents],
        "track_record": vetting.track_record, "vision_and_mission": vetting.vision_and_mission,
        "child_orientation": vetting.child_orientation, "years_with_children": vetting.years_with_children.value,
        "vetted_by": vetting.vetted_by, "vetted_at": vetting.vetted_at, "evidence": list(vetting.evidence),
        "notes": vetting.notes,
    }


def agreement_row(provider_id: str, agreement: Agreement) -> dict[str, Any]:
    """A `provider_agreements` row."""
    return {
        "provider_id": provider_id, "agreement_id": agreement.agreement_id, "kind": agreement.kind.value,
        "document_reference": agreement.document_reference, "starts_on": agreement.starts_on,
        "ends_on": agreement.ends_on, "service_types": sorted(agreement.service_types),
        "districts": sorted(agreement.districts),
    }


def service_type_row(entry: ServiceType) -> dict[str, Any]:
    """A `service_types` row."""
    return {"code": entry.code, "name": entry.name, "version": entry.version, "retired": entry.retired}


def change_row(change: CodeListChange) -> dict[str, list[str]]:
    """What an import changed, as the JSON of its version row."""
    return {"created": list(change.created), "renamed": list(change.renamed), "retired": list(change.retired),
            "unretired": list(change.unretired)}


def provider(row: Row, districts: frozenset[str], vetted: Sequence[Row], agreed: Sequence[Row]) -> Provider:
    """The aggregate from its rows."""
    scored = row["scored"]
    return Provider(
        provider_id=row["provider_id"], organisation=row["organisation"],
        provider_type=ProviderType(row["provider_type"]), districts=districts,
        contacts=tuple(Contact(**contact) for contact in row["contacts"]), catalogue=frozenset(row["catalogue"]),
        capacity=Capacity(row["capacity"]), status=ProviderStatus(row["status"]),
        vettings=[vetting(v) for v in vetted], scored=None if scored is None else Score(**scored),
        agreements={a["agreement_id"]: agreement(a) for a in agreed},
    )


def vetting(row: Row) -> Vetting:
    """A vetting from its row."""
    return Vetting(
        vetting_id=row["vetting_id"],
        documents=tuple(LegalDocument(LegalDocumentKind(d["kind"]), d["reference"],
                                      dt.date.fromisoformat(d["valid_from"]),
                                      dt.date.fromisoformat(d["expires_on"]) if d["expires_on"] else None)
                        for d in row["documents"]),
        track_record=row["track_record"], vision_and_mission=row["vision_and_mission"],
        child_orientation=row["child_orientation"], years_with_children=YearsWithChildren(row["years_with_children"]),
        vetted_by=row["vetted_by"], vetted_at=_aware(row["vetted_at"]), evidence=tuple(row["evidence"]),
        notes=row["notes"],
    )


def agreement(row: Row) -> Agreement:
    """An agreement from its row."""
    return Agreement(
        agreement_id=row["agreement_id"], kind=AgreementKind(row["kind"]),
        document_reference=row["document_reference"], starts_on=row["starts_on"], ends_on=row["ends_on"],
        service_types=frozenset(row["service_types"]), districts=frozenset(row["districts"]),
    )


def _aware(at: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were written in UTC.
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
