"""District API: the provider directory (see `referral.service_layer.handlers.directory`) and the service-type code
list. District officers (and district systems) act only in their districts: another district's provider is 404.
Every write is audited; scores are shown as of today by the service's clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from referral.domain.commands.directory import (
    ChangeProviderDetails,
    ImportServiceTypes,
    OffboardProvider,
    ProviderFilters,
    ReadProvider,
    ReadServiceTypes,
    RecordAgreement,
    RecordVetting,
    RegisterProvider,
    ReinstateProvider,
    SearchProviders,
    SetCapacity,
    SuspendProvider,
)
from referral.domain.providers import Capacity, Provider, ProviderStatus
from referral.entrypoints.http.provider_schemas import (
    NO_NUL,
    OPAQUE_ID,
    AgreementIn,
    AgreementRead,
    CapacityIn,
    ProviderCreate,
    ProviderDetailsIn,
    ProviderPage,
    ProviderRead,
    ReasonIn,
    ServiceTypeCode,
    ServiceTypeImport,
    ServiceTypeImportRead,
    ServiceTypeListRead,
    VettingCreate,
    VettingRead,
    agreement_view,
    import_view,
    provider_view,
    service_types_view,
    vetting_view,
)
from referral.service_layer.handlers import directory
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_platform.auth import Principal, Role, require
from simpul_platform.unit_of_work import execute

C = TypeVar("C")
R = TypeVar("R")
District = Annotated[Principal, Depends(require(Role.DISTRICT_OFFICER, Role.SERVICE))]
National = Annotated[Principal, Depends(require(Role.MINISTRY, Role.SERVICE))]
Anyone = Annotated[Principal, Depends(require(*Role))]
ProviderId = Annotated[str, Path(max_length=64, pattern=OPAQUE_ID, description="The provider's id")]
AgreementId = Annotated[str, Path(max_length=64, pattern=OPAQUE_ID, description="The agreement's id")]

router = APIRouter(tags=["providers"])


def _now(request: Request) -> dt.datetime:
    now: dt.datetime = request.app.state.wiring.clock()
    return now


async def _run(request: Request, handler: Callable[[C, ReferralUnitOfWork], Awaitable[R]], command: C) -> R:
    uow: ReferralUnitOfWork = request.app.state.wiring.unit_of_work()
    result: R = await execute(uow, handler, command)
    return result


def _view(request: Request, provider: Provider) -> ProviderRead:
    return provider_view(provider, _now(request).date())


@router.post("/providers", status_code=201, response_model=ProviderRead, summary="Register a provider")
async def register_provider(body: ProviderCreate, principal: District, request: Request,
                            response: Response) -> ProviderRead:
    """Add a provider serving districts of yours; it needs a vetting and an agreement before it takes referrals."""
    command = RegisterProvider(principal, body.organisation, body.provider_type, body.details(), _now(request))
    provider = await _run(request, directory.register_provider, command)
    response.headers["Location"] = f"/providers/{provider.provider_id}"
    return _view(request, provider)


@router.get("/providers", response_model=ProviderPage, summary="Search providers in your districts")
async def search_providers(
    principal: District, request: Request, *,
    district: Annotated[str | None, Query(pattern=r"^\d{2}\.\d{2}$")] = None,
    service_type: Annotated[ServiceTypeCode | None, Query()] = None,
    capacity: Capacity | None = None,
    status: ProviderStatus | None = None,
    organisation: Annotated[str | None, Query(min_length=1, max_length=200, pattern=NO_NUL)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=64, pattern=OPAQUE_ID)] = None,
) -> ProviderPage:
    """Providers serving one of your districts and matching every given filter, ordered by id."""
    filters = ProviderFilters(district, service_type, capacity, status, organisation, cursor, limit + 1)
    found = await _run(request, directory.search_providers, SearchProviders(principal, filters))
    page = found[:limit]
    return ProviderPage(items=[_view(request, p) for p in page],
                        next_cursor=page[-1].provider_id if len(found) > limit else None)


@router.get("/providers/{provider_id}", response_model=ProviderRead, summary="A provider in your districts")
async def read_provider(provider_id: ProviderId, principal: District, request: Request) -> ProviderRead:
    """The provider with its current vetting (scored as of today) and its agreements."""
    return _view(request, await _run(request, directory.read_provider, ReadProvider(principal, provider_id)))


@router.put("/providers/{provider_id}/details", response_model=ProviderRead, summary="Change a provider's details")
async def change_details(provider_id: ProviderId, body: ProviderDetailsIn, principal: District,
                         request: Request) -> ProviderRead:
    """Replace the districts covered, the contacts and the service catalogue."""
    command = ChangeProviderDetails(principal, provider_id, body.details(), _now(request))
    return _view(request, await _run(request, directory.change_provider_details, command))


@router.put("/providers/{provider_id}/capacity", response_model=ProviderRead, summary="Set a provider's capacity")
async def set_capacity(provider_id: ProviderId, body: CapacityIn, principal: District,
                       request: Request) -> ProviderRead:
    """available, limited or full (a full provider takes a referral only on an officer's override)."""
    command = SetCapacity(principal, provider_id, body.capacity, _now(request))
    return _view(request, await _run(request, directory.set_capacity, command))


@router.post("/providers/{provider_id}/vettings", status_code=201, response_model=VettingRead,
             summary="Record a vetting (KPAI checklist)")
async def record_vetting(provider_id: ProviderId, body: VettingCreate, principal: District,
                         request: Request) -> VettingRead:
    """Score the provider: one point per valid document of legality (0-4), track record, vision and mission, child
    orientation (0-2 each), years with children (0-1). The answer shows the total and the recommendation."""
    now = _now(request)
    command = RecordVetting(principal, provider_id, body.documents_(), body.scores(), now, tuple(body.evidence),
                            body.notes)
    _, vetting, _ = await _run(request, directory.record_vetting, command)
    return vetting_view(vetting, now.date())


@router.post("/providers/{provider_id}/agreements", status_code=201, response_model=AgreementRead,
             summary="Record an agreement (MoU or PKS)")
async def record_agreement(provider_id: ProviderId, body: AgreementIn, principal: District,
                           request: Request) -> AgreementRead:
    """An agreement covering service types in districts of yours over its validity period."""
    now = _now(request)
    _, agreement = await _run(request, directory.record_agreement,
                              RecordAgreement(principal, provider_id, body.terms(), now))
    return agreement_view(agreement, now.date())


@router.put("/providers/{provider_id}/agreements/{agreement_id}", response_model=AgreementRead,
            summary="Amend an agreement")
async def amend_agreement(provider_id: ProviderId, agreement_id: AgreementId, body: AgreementIn,
                          principal: District, request: Request) -> AgreementRead:
    """Replace an agreement's terms (an extension, a new annex)."""
    now = _now(request)
    _, agreement = await _run(request, directory.record_agreement,
                              RecordAgreement(principal, provider_id, body.terms(), now, agreement_id))
    return agreement_view(agreement, now.date())


@router.post("/providers/{provider_id}/suspend", response_model=ProviderRead, summary="Suspend a provider")
async def suspend(provider_id: ProviderId, body: ReasonIn, principal: District, request: Request) -> ProviderRead:
    """No referrals until reinstated; its open referrals go back to the district queue."""
    command = SuspendProvider(principal, provider_id, body.reason, _now(request))
    return _view(request, await _run(request, directory.suspend_provider, command))


@router.post("/providers/{provider_id}/reinstate", response_model=ProviderRead, summary="Reinstate a provider")
async def reinstate(provider_id: ProviderId, principal: District, request: Request) -> ProviderRead:
    """A suspended provider may receive referrals again."""
    command = ReinstateProvider(principal, provider_id, _now(request))
    return _view(request, await _run(request, directory.reinstate_provider, command))


@router.post("/providers/{provider_id}/offboard", response_model=ProviderRead, summary="Offboard a provider")
async def offboard(provider_id: ProviderId, body: ReasonIn, principal: District, request: Request) -> ProviderRead:
    """Out of the directory for good; its open referrals go back to the district queue."""
    command = OffboardProvider(principal, provider_id, body.reason, _now(request))
    return _view(request, await _run(request, directory.offboard_provider, command))


@router.get("/service-types", response_model=ServiceTypeListRead, summary="The service-type code list",
            tags=["service types"])
async def read_service_types(_principal: Anyone, request: Request) -> ServiceTypeListRead:
    """Every code with its level and the list version that last changed it; retired codes are kept."""
    return service_types_view(await _run(request, directory.read_service_types, ReadServiceTypes()))


@router.post("/service-types/imports", response_model=ServiceTypeImportRead,
             summary="Import a new version of the code list", tags=["service types"])
async def import_service_types(body: ServiceTypeImport, principal: National,
                               request: Request) -> ServiceTypeImportRead:
    """The whole new list (national reference data: the ministry or a service client): codes missing from it are
    retired, never deleted; a list that changes nothing keeps the version."""
    command = ImportServiceTypes(principal, body.rows(), _now(request))
    return import_view(*await _run(request, directory.import_service_types, command))
