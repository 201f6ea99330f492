"""A provider's API clients against the fake: registered by a district officer of a district the provider serves,
listed without secrets, rotated with an overlap, revoked; the client-credentials grant checks the secret, the
client's state, its provider's and the scopes it asks for."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from referral.domain.clients import SCOPES, hash_secret, secret_matches
from referral.domain.commands.clients import ListClients, RegisterClient, RequestToken, RevokeClient, RotateClientSecret
from referral.domain.commands.directory import OffboardProvider, ProviderDetails, RegisterProvider
from referral.domain.errors import Conflict, Forbidden, Invalid, NotFound
from referral.domain.providers import Contact, Provider, ProviderType
from referral.service_layer.fake import FakeReferralUnitOfWork
from referral.service_layer.handlers import clients, directory
from simpul_platform.auth import Principal, Role
from simpul_platform.unit_of_work import execute

JEMBER, LOMBOK_TIMUR = "35.09", "52.03"
OFFICER = Principal("officer-jember", Role.DISTRICT_OFFICER, (JEMBER,))
LOMBOK_OFFICER = Principal("officer-lotim", Role.DISTRICT_OFFICER, (LOMBOK_TIMUR,))
DISTRICT_SYSTEM = Principal("jember-sis", Role.SERVICE, (JEMBER,))
AT = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


async def provider(uow: FakeReferralUnitOfWork) -> Provider:
    details = ProviderDetails(frozenset({JEMBER}), (Contact("Bu Ani", "head", "0331"),))
    return await execute(uow, directory.register_provider,
                         RegisterProvider(OFFICER, "LPA Jember", ProviderType.NGO, details, AT))


async def registered(uow: FakeReferralUnitOfWork, scopes: frozenset[str] = SCOPES) -> tuple[Provider, Any, str]:
    found = await provider(uow)
    client, secret = await execute(uow, clients.register_client,
                                   RegisterClient(OFFICER, found.provider_id, "LPA case system", scopes, AT))
    return found, client, secret


async def token(uow: FakeReferralUnitOfWork, client_id: str, secret: str, at: dt.datetime = AT,
                scopes: frozenset[str] | None = None) -> clients.Grant | clients.Refusal:
    return await execute(uow, clients.request_token, RequestToken(client_id, secret, scopes, at))


def test_a_secret_is_kept_as_a_salted_scrypt_hash() -> None:
    stored = hash_secret("sps_s3cret")
    assert stored.startswith("scrypt$16384$8$1$")
    assert "sps_s3cret" not in stored
    assert stored != hash_secret("sps_s3cret")  # a fresh salt each time
    assert secret_matches("sps_s3cret", stored)
    assert not secret_matches("sps_s3cret ", stored)


async def test_an_officer_registers_a_client_whose_secret_is_returned_once_and_stored_hashed() -> None:
    uow = FakeReferralUnitOfWork()
    found, client, secret = await registered(uow)
    assert client.client_id.startswith("cli_")
    assert secret.startswith("sps_")
    assert len(secret) > 40
    stored = uow.api_clients.clients[client.client_id]
    assert secret not in repr(vars(stored))
    assert secret_matches(secret, stored.secret_hash)
    assert (stored.provider_id, stored.scopes, stored.created_by) == (found.provider_id, SCOPES, "officer-jember")
    assert [(a.action, a.resource, a.resource_ids) for a in uow.audited][-1] == (
        "register", "api_client", (client.client_id, found.provider_id))
    listed = await execute(uow, clients.list_clients, ListClients(OFFICER, found.provider_id))
    assert [c.client_id for c in listed] == [client.client_id]


@pytest.mark.parametrize(("by", "error"), [(LOMBOK_OFFICER, NotFound), (DISTRICT_SYSTEM, Forbidden)])
async def test_another_districts_officer_or_a_district_system_cannot_manage_clients(by: Principal,
                                                                                     error: type) -> None:
    uow = FakeReferralUnitOfWork()
    found, client, _ = await registered(uow)
    audited = len(uow.audited)
    with pytest.raises(error):
        await execute(uow, clients.register_client, RegisterClient(by, found.provider_id, "x", SCOPES, AT))
    with pytest.raises(error):
        await execute(uow, clients.list_clients, ListClients(by, found.provider_id))
    with pytest.raises(error):
        await execute(uow, clients.revoke_client, RevokeClient(by, found.provider_id, client.client_id, AT))
    assert len(uow.api_clients.clients) == 1
    assert len(uow.audited) == audited


async def test_unknown_scopes_are_refused_and_an_offboarded_provider_gets_no_client() -> None:
    uow = FakeReferralUnitOfWork()
    found = await provider(uow)
    with pytest.raises(Invalid) as unknown:
        await execute(uow, clients.register_client,
                      RegisterClient(OFFICER, found.provider_id, "x", frozenset({"admin"}), AT))
    assert unknown.value.field == "scopes"
    await execute(uow, directory.offboard_provider, OffboardProvider(OFFICER, found.provider_id, "closed", AT))
    with pytest.raises(Conflict):
        await execute(uow, clients.register_client, RegisterClient(OFFICER, found.provider_id, "x", SCOPES, AT))
    assert uow.api_clients.clients == {}


async def test_the_right_secret_gets_a_grant_of_the_clients_provider_and_a_wrong_one_is_refused() -> None:
    uow = FakeReferralUnitOfWork()
    found, client, secret = await registered(uow)
    grant = await token(uow, client.client_id, secret)
    assert grant == clients.Grant(client.client_id, found.provider_id, SCOPES)
    assert uow.audited[-1].action == "token"
    wrong = await token(uow, client.client_id, secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    assert wrong == clients.Refusal(clients.TokenError.INVALID_CLIENT, "unknown client or wrong secret")
    assert uow.audited[-1].action == "token_refused"
    assert await token(uow, "cli_unknown", secret) == wrong


async def test_a_token_request_gets_the_scopes_it_asks_for_within_the_clients() -> None:
    uow = FakeReferralUnitOfWork()
    _, client, secret = await registered(uow, frozenset({"referrals:read", "services:write"}))
    narrowed = await token(uow, client.client_id, secret, scopes=frozenset({"referrals:read"}))
    assert isinstance(narrowed, clients.Grant)
    assert narrowed.scopes == {"referrals:read"}
    beyond = await token(uow, client.client_id, secret, scopes=frozenset({"referrals:read", "webhooks"}))
    assert beyond == clients.Refusal(clients.TokenError.INVALID_SCOPE, "not granted to this client: webhooks")


async def test_a_rotated_secret_overlaps_for_the_window_then_only_the_new_one_works() -> None:
    uow = FakeReferralUnitOfWork()
    found, client, old = await registered(uow)
    rotated, new = await execute(uow, clients.rotate_client_secret,
                                 RotateClientSecret(OFFICER, found.provider_id, client.client_id, HOUR, AT))
    assert new != old
    assert rotated.previous_expires_at == AT + HOUR
    assert isinstance(await token(uow, client.client_id, old, AT + HOUR - dt.timedelta(seconds=1)), clients.Grant)
    assert isinstance(await token(uow, client.client_id, old, AT + HOUR), clients.Refusal)
    assert isinstance(await token(uow, client.client_id, new, AT + HOUR), clients.Grant)
    # A leaked secret: rotate with no overlap, the old one stops at once.
    _, newest = await execute(uow, clients.rotate_client_secret, RotateClientSecret(
        OFFICER, found.provider_id, client.client_id, dt.timedelta(0), AT + 2 * HOUR))
    assert isinstance(await token(uow, client.client_id, new, AT + 2 * HOUR), clients.Refusal)
    assert isinstance(await token(uow, client.client_id, newest, AT + 2 * HOUR), clients.Grant)


async def test_a_revoked_client_gets_no_token_and_cannot_be_rotated() -> None:
    uow = FakeReferralUnitOfWork()
    found, client, secret = await registered(uow)
    revoked = await execute(uow, clients.revoke_client, RevokeClient(OFFICER, found.provider_id, client.client_id, AT))
    assert revoked.revoked_at == AT
    assert isinstance(await token(uow, client.client_id, secret), clients.Refusal)
    with pytest.raises(Conflict):
        await execute(uow, clients.rotate_client_secret,
                      RotateClientSecret(OFFICER, found.provider_id, client.client_id, HOUR, AT))
    listed = await execute(uow, clients.list_clients, ListClients(OFFICER, found.provider_id))
    assert [c.revoked for c in listed] == [True]


async def test_a_client_of_an_offboarded_provider_gets_no_token() -> None:
    uow = FakeReferralUnitOfWork()
    found, client, secret = await registered(uow)
    await execute(uow, directory.offboard_provider, OffboardProvider(OFFICER, found.provider_id, "closed", AT))
    refusal = await token(uow, client.client_id, secret)
    assert refusal == clients.Refusal(clients.TokenError.INVALID_CLIENT, "the client's provider is offboarded")


async def test_another_providers_client_id_is_not_found_under_this_provider() -> None:
    uow = FakeReferralUnitOfWork()
    found, client, _ = await registered(uow)
    other = await provider(uow)
    with pytest.raises(NotFound):
        await execute(uow, clients.revoke_client, RevokeClient(OFFICER, other.provider_id, client.client_id, AT))
    assert not dataclasses.replace(uow.api_clients.clients[client.client_id]).revoked
    assert found.provider_id != other.provider_id
