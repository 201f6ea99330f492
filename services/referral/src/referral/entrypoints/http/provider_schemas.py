"""HTTP bodies of the provider directory: what a district officer sends (parsed into domain values) and reads."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.config import JsonDict

from referral.domain.agreements import Agreement, AgreementKind
from referral.domain.commands.directory import AgreementTerms, ProviderDetails, Scores
from referral.domain.providers import Capacity, Contact, Provider, ProviderStatus, ProviderType
from referral.domain.service_types import CodeListChange, ListedServiceType, ServiceTypeList
from referral.domain.vetting import LegalDocument, LegalDocumentKind, Recommendation, Score, Vetting, YearsWithChildren
from simpul_contracts.events.referral.providers import ORGANISATION_NAME

OPAQUE_ID = r"^[A-Za-z0-9._:-]+$"
NO_NUL = r"^[^\x00]*$"
DistrictCode = Annotated[str, StringConstraints(pattern=r"^\d{2}\.\d{2}$"),
                         Field(description="Kemendagri district code PP.RR", examples=["35.09"])]
ServiceTypeCode = Annotated[str, StringConstraints(pattern=r"^(child|household|community)\.[a-z][a-z0-9_]{1,58}$"),
                            Field(examples=["child.school_re_entry"])]
Text = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL)]
Optional200 = Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL)]
Criterion = Annotated[int, Field(ge=0, le=2)]
Organisation = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=ORGANISATION_NAME),
                         Field(description="The organisation's public name (published; no e-mail address)")]


class Closed(BaseModel):
    """Request bodies refuse fields they do not know (a typo is an error, not a silent default)."""

    model_config = ConfigDict(extra="forbid")


# A contact's rules (domain/providers.py: Contact), stated so that the document says what is refused.
CONTACT_REACHABLE: JsonDict = {"anyOf": [
    {"required": ["phone"], "properties": {"phone": {"pattern": r"[^\s\x1c-\x1f\x85]"}}},
    {"required": ["email"], "properties": {"email": {"pattern": r"[^\s\x1c-\x1f\x85]"}}}]}
# Not blank: some character that is neither NUL nor white space (Python's, which str.strip() removes, and JSON
# Schema's alike).
NamedText = Annotated[str, StringConstraints(min_length=1, max_length=200,
                                             pattern=r"^[^\x00]*[^\x00\s\x1c-\x1f\x85][^\x00]*$")]


class ContactIn(Closed):
    """A person at the provider to reach about referrals (a phone or an email at least)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=CONTACT_REACHABLE)

    name: NamedText
    role: Optional200 = ""
    phone: Optional200 = ""
    email: Optional200 = ""


class ProviderDetailsIn(Closed):
    """Districts covered, contacts and service catalogue."""

    districts: list[DistrictCode] = Field(min_length=1, max_length=50)
    contacts: list[ContactIn] = Field(default_factory=list, max_length=20)
    catalogue: list[ServiceTypeCode] = Field(default_factory=list, max_length=100)

    def details(self) -> ProviderDetails:
        """As the domain's value."""
        return ProviderDetails(frozenset(self.districts), tuple(Contact(**c.model_dump()) for c in self.contacts),
                               frozenset(self.catalogue))


class ProviderCreate(ProviderDetailsIn):
    """A provider to add to the directory."""

    organisation: Organisation
    provider_type: ProviderType


class CapacityIn(Closed):
    """The capacity status district officers see."""

    capacity: Capacity


class ReasonIn(Closed):
    """Why (kept in referral's records and audit log; never published)."""

    reason: Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=NO_NUL)]


class DocumentIn(Closed):
    """A document of legality: valid from `valid_from`, no longer on `expires_on` (its expiry day), if any."""

    kind: LegalDocumentKind
    reference: Text
    valid_from: dt.date
    expires_on: dt.date | None = None


class VettingCreate(Closed):
    """A vetting by the KPAI checklist: the documents of legality (one point each while valid) and the scores."""

    documents: list[DocumentIn] = Field(default_factory=list, max_length=20)
    track_record: Criterion
    vision_and_mission: Criterion
    child_orientation: Criterion
    years_with_children: YearsWithChildren
    evidence: list[Text] = Field(default_factory=list, max_length=50)
    notes: Annotated[str, StringConstraints(max_length=4000, pattern=NO_NUL)] = ""

    def documents_(self) -> tuple[LegalDocument, ...]:
        """As the domain's values."""
        return tuple(LegalDocument(d.kind, d.reference, d.valid_from, d.expires_on) for d in self.documents)

    def scores(self) -> Scores:
        """The scores besides legality."""
        return Scores(self.track_record, self.vision_and_mission, self.child_orientation, self.years_with_children)


class AgreementIn(Closed):
    """An MoU or PKS: in force from `starts_on` to `ends_on`, both included."""

    kind: AgreementKind
    document_reference: Text
    starts_on: dt.date
    ends_on: dt.date
    service_types: list[ServiceTypeCode] = Field(min_length=1, max_length=100)
    districts: list[DistrictCode] = Field(min_length=1, max_length=50)

    def terms(self) -> AgreementTerms:
        """As the domain's value."""
        return AgreementTerms(self.kind, self.document_reference, self.starts_on, self.ends_on,
                              frozenset(self.service_types), frozenset(self.districts))


class ScoreRead(BaseModel):
    """A vetting's score as of a day, criterion by criterion, with the total and what it recommends."""

    on: dt.date
    legality: int
    track_record: int
    vision_and_mission: int
    child_orientation: int
    years_with_children: int
    total: int
    recommendation: Recommendation


class VettingRead(BaseModel):
    """A recorded vetting: who, when, the evidence and notes, and its score as of today."""

    vetting_id: str
    vetted_by: str
    vetted_at: dt.datetime
    documents: list[DocumentIn]
    evidence: list[str]
    notes: str
    score: ScoreRead


class AgreementRead(AgreementIn):
    """An agreement of the provider, and whether it is in force today."""

    agreement_id: str
    in_force: bool


class ProviderRead(BaseModel):
    """A provider as district officers see it: the current vetting scored as of today, and its agreements."""

    provider_id: str
    organisation: str
    provider_type: ProviderType
    districts: list[str]
    contacts: list[ContactIn]
    catalogue: list[str]
    capacity: Capacity
    status: ProviderStatus
    vetting: VettingRead | None
    agreements: list[AgreementRead]


class ProviderPage(BaseModel):
    """A page of providers; `next_cursor` asks for the next one."""

    items: list[ProviderRead]
    next_cursor: str | None


class ServiceTypeRead(BaseModel):
    """An entry of the code list: `version` is the list version that last changed it."""

    code: str
    name: str
    level: str
    version: int
    retired: bool


class ServiceTypeListRead(BaseModel):
    """The code list, retired codes included."""

    version: int
    service_types: list[ServiceTypeRead]


class ServiceTypeRow(Closed):
    """A row of a code list to import."""

    code: ServiceTypeCode
    name: Text


class ServiceTypeImport(Closed):
    """The whole new list: codes missing from it are retired (never deleted), retired codes listed return."""

    service_types: list[ServiceTypeRow] = Field(min_length=1, max_length=1000)

    def rows(self) -> tuple[ListedServiceType, ...]:
        """As the domain's rows."""
        return tuple(ListedServiceType(row.code, row.name) for row in self.service_types)


class ServiceTypeImportRead(BaseModel):
    """What an import changed, and the list version after it (unchanged when nothing changed)."""

    version: int
    created: list[str]
    renamed: list[str]
    retired: list[str]
    unretired: list[str]


def score_view(score: Score, on: dt.date) -> ScoreRead:
    """A score as the API shows it."""
    return ScoreRead(on=on, legality=score.legality, track_record=score.track_record,
                     vision_and_mission=score.vision_and_mission, child_orientation=score.child_orientation,
                     years_with_children=score.years_with_children, total=score.total,
                     recommendation=score.recommendation)


def vetting_view(vetting: Vetting, today: dt.date) -> VettingRead:
    """A vetting scored as of `today`."""
    return VettingRead(vetting_id=vetting.vetting_id, vetted_by=vetting.vetted_by, vetted_at=vetting.vetted_at,
                       documents=[DocumentIn(kind=d.kind, reference=d.reference, valid_from=d.valid_from,
                                             expires_on=d.expires_on) for d in vetting.documents],
                       evidence=list(vetting.evidence), notes=vetting.notes,
                       score=score_view(vetting.score_on(today), today))


def agreement_view(agreement: Agreement, today: dt.date) -> AgreementRead:
    """An agreement, in force today or not."""
    return AgreementRead(agreement_id=agreement.agreement_id, kind=agreement.kind,
                         document_reference=agreement.document_reference, starts_on=agreement.starts_on,
                         ends_on=agreement.ends_on, service_types=sorted(agreement.service_types),
                         districts=sorted(agreement.districts), in_force=agreement.in_force_on(today))


def provider_view(provider: Provider, today: dt.date) -> ProviderRead:
    """A provider as the API shows it."""
    current = provider.current_vetting
    return ProviderRead(
        provider_id=provider.provider_id, organisation=provider.organisation, provider_type=provider.provider_type,
        districts=sorted(provider.districts),
        contacts=[ContactIn(name=c.name, role=c.role, phone=c.phone, email=c.email) for c in provider.contacts],
        catalogue=sorted(provider.catalogue), capacity=provider.capacity, status=provider.status,
        vetting=None if current is None else vetting_view(current, today),
        agreements=[agreement_view(a, today) for a in sorted(provider.agreements.values(),
                                                             key=lambda a: a.starts_on)])


def service_types_view(listed: ServiceTypeList) -> ServiceTypeListRead:
    """The code list as the API shows it."""
    return ServiceTypeListRead(version=listed.version, service_types=[
        ServiceTypeRead(code=e.code, name=e.name, level=e.level.value, version=e.version, retired=e.retired)
        for e in sorted(listed.entries.values(), key=lambda e: e.code)])


def import_view(listed: ServiceTypeList, change: CodeListChange) -> ServiceTypeImportRead:
    """What an import did."""
    return ServiceTypeImportRead(version=listed.version, created=list(change.created), renamed=list(change.renamed),
                                 retired=list(change.retired), unretired=list(change.unretired))
