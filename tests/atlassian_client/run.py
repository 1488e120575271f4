"""Drives a running keyward with the unmodified atlassian-python-api client (its cloud_admin
module), the way a script written for Atlassian's admin APIs would, with only the base URL
changed. Prints one line per call and exits non-zero at the first answer that is not what the
client expects.

Environment:
  KEYWARD_URL   base URL of the running keyward, e.g. http://127.0.0.1:8080
  KEYWARD_KEY   an admin API key of the org (without scopes, or with every scope used below)
  ORG_ID        the org's id
  ACCOUNT_ID    optional: the user to read, suspend and restore (default: the first user listed);
                not the org's last admin, whom keyward refuses to suspend
  SPARE_KEY_ID  optional: an API key of the org to revoke through the client

The package has no base-URL parameter: every class passes the module constant
atlassian.cloud_admin.ADMIN_URL ("https://api.atlassian.com") to its base class, and the
CloudAdmin methods that build absolute URLs read the same constant when called. Setting that
constant before the clients are made is the one change; the package's code is used as shipped.
"""

import os
import sys

import requests
from atlassian import cloud_admin
from atlassian.cloud_admin import CloudAdmin, CloudAdminOrgs, CloudAdminUsers


def env(name, default=None):
    value = os.environ.get(name, default)
    if value is None:
        sys.exit(f"run.py: set {name}")
    return value


BASE = env("KEYWARD_URL").rstrip("/")
KEY = env("KEYWARD_KEY")
ORG = env("ORG_ID")

cloud_admin.ADMIN_URL = BASE
orgs_client = CloudAdminOrgs(admin_api_key=KEY)
users_client = CloudAdminUsers(admin_api_key=KEY)
admin = CloudAdmin(admin_api_key=KEY)
assert orgs_client.url == users_client.url == admin.url == BASE, "the clients talk to keyward"


def on_http_error(kind, error, trace):
    """An answer the client refused: one line saying which call and what came back."""
    response = getattr(error, "response", None)
    if isinstance(error, requests.HTTPError) and response is not None:
        print(
            f"FAIL {response.request.method} {response.url}: HTTP {response.status_code} {response.text[:500]}",
            flush=True,
        )
        sys.exit(1)
    sys.__excepthook__(kind, error, trace)


sys.excepthook = on_http_error


def check(condition, what, got):
    if not condition:
        print(f"FAIL {what}: got {got!r}", flush=True)
        sys.exit(1)


def report(call, how, summary):
    print(f"ok {call} [{how}]: {summary}", flush=True)


def is_list_page(page):
    return isinstance(page, dict) and isinstance(page.get("data"), list) and isinstance(page.get("links"), dict)


# Organizations.
page = orgs_client.get_organizations()
check(is_list_page(page), "CloudAdminOrgs.get_organizations answers a list page", page)
ids = [org.get("id") for org in page["data"]]
check(ids == [ORG], "the key sees its own org only", ids)
check(page["data"][0].get("type") == "orgs", "an org's type", page["data"][0])
name = page["data"][0].get("attributes", {}).get("name")
check(isinstance(name, str) and name, "an org's name", page["data"][0])
report("GET /admin/v1/orgs", "CloudAdminOrgs.get_organizations", f"1 org, {name!r}")

org = orgs_client.get_organization(ORG)
check(isinstance(org, dict) and org.get("data", {}).get("id") == ORG, "CloudAdminOrgs.get_organization", org)
report(f"GET /admin/v1/orgs/{ORG}", "CloudAdminOrgs.get_organization", f"{org['data']['attributes']['name']!r}")

# API keys.
page = admin.get_org_api_keys(ORG)
check(is_list_page(page), "CloudAdmin.get_org_api_keys answers a list page", page)
keys = page["data"]
own = [k for k in keys if KEY.startswith(f"kw_{k.get('publicId')}_")]
check(len(own) == 1, "the calling key is listed", keys)
for key in keys:
    check("token" not in key, "no key shows its token", key)
    for field in ("id", "label", "createdAt", "expiresAt", "lastActiveAt", "orgId", "createdBy", "scopes"):
        check(field in key, f"a key's {field}", key)
report(f"GET /admin/api-access/v1/orgs/{ORG}/api-keys", "CloudAdmin.get_org_api_keys", f"{len(keys)} keys")

count = admin.get_org_api_key_count(ORG)
check(isinstance(count, int) and not isinstance(count, bool) and count >= len(keys), "a bare integer", count)
report(f"GET /admin/api-access/v1/orgs/{ORG}/api-keys/count", "CloudAdmin.get_org_api_key_count", f"{count}")

active = admin.get_org_api_keys(ORG, status=["active"], q=own[0]["publicId"])
check([k["id"] for k in active["data"]] == [own[0]["id"]], "filters by status and text", active)
report(
    f"GET /admin/api-access/v1/orgs/{ORG}/api-keys?status=active&q=...",
    "CloudAdmin.get_org_api_keys(status=, q=)",
    "the calling key alone",
)

spare = os.environ.get("SPARE_KEY_ID")
if spare:
    answer = admin.revoke_org_api_key(ORG, spare)
    check(answer is None, "a revocation answers no body", answer)
    revoked = admin.get_org_api_keys(ORG, status="revoked")
    check(spare in [k["id"] for k in revoked["data"]], "the revoked key is listed as revoked", revoked)
    report(
        f"PATCH /admin/api-access/v1/orgs/{ORG}/api-keys/revoke/{spare}",
        "CloudAdmin.revoke_org_api_key",
        "revoked",
    )

# Users.
page = orgs_client.get_managed_accounts_in_organization(ORG)
check(is_list_page(page), "get_managed_accounts_in_organization answers a list page", page)
users = page["data"]
check(len(users) > 0, "the org has users", page)
for user in users:
    for field in ("account_id", "account_type", "account_status", "name", "email"):
        check(field in user, f"a user's {field}", user)
total = page.get("meta", {}).get("total")
check(isinstance(total, int) and total >= len(users), "meta.total is a count", page.get("meta"))
account = os.environ.get("ACCOUNT_ID") or users[0]["account_id"]
check(account in [u["account_id"] for u in users], f"{account} is listed", [u["account_id"] for u in users])
report(
    f"GET /admin/v1/orgs/{ORG}/users",
    "CloudAdminOrgs.get_managed_accounts_in_organization",
    f"{len(users)} users, meta.total {total}",
)

found = orgs_client.search_users_in_organization(ORG, account_ids=[account])
check(is_list_page(found), "search_users_in_organization answers a list page", found)
check([u.get("accountId") for u in found["data"]] == [account], "the search finds the one account", found)
report(
    f"GET /admin/v1/orgs/{ORG}/users/search?accountIds=...&limit=10000",
    "CloudAdminOrgs.search_users_in_organization",
    f"found {account}",
)

# Directories.
page = admin.get_directories(ORG)
check(is_list_page(page), "CloudAdmin.get_directories answers a list page", page)
check(len(page["data"]) == 1, "one directory per org", page)
directory = page["data"][0].get("directoryId") or page["data"][0].get("id")
check(isinstance(directory, str) and directory, "the directory's id", page["data"][0])
report(f"GET /admin/v2/orgs/{ORG}/directories", "CloudAdmin.get_directories", f"directory {directory}")

# Profiles.
profile = users_client.get_profile(account)
check(isinstance(profile, dict) and profile.get("account", {}).get("account_id") == account, "a profile", profile)
for field in ("account_type", "account_status", "name", "email"):
    check(field in profile["account"], f"a profile's {field}", profile)
report(f"GET /users/{account}/manage/profile", "CloudAdminUsers.get_profile", f"{profile['account']['email']}")

profile = admin.get_user_profile(account)
check(profile.get("account", {}).get("account_id") == account, "the same profile", profile)
report(f"GET /users/{account}/manage/profile", "CloudAdmin.get_user_profile", "the same account")


# Suspending and restoring a user's access to the org: the client has no method for either, so
# through its generic post (relative to the base URL, as its own methods are).
def is_suspended(account_id):
    page = orgs_client.search_users_in_organization(ORG, account_ids=[account_id], is_suspended=True)
    return account_id in [u.get("accountId") for u in page["data"]]


answer = admin.post(f"admin/v1/orgs/{ORG}/directory/users/{account}/suspend-access", data={})
check(isinstance(answer, dict) and isinstance(answer.get("message"), str), "suspend-access answers a message", answer)
check(is_suspended(account), "the user is suspended", account)
report(
    f"POST /admin/v1/orgs/{ORG}/directory/users/{account}/suspend-access",
    "AtlassianRestAPI.post",
    answer["message"],
)

answer = admin.post(f"admin/v1/orgs/{ORG}/directory/users/{account}/restore-access", data={})
check(isinstance(answer, dict) and isinstance(answer.get("message"), str), "restore-access answers a message", answer)
check(not is_suspended(account), "the user is no longer suspended", account)
report(
    f"POST /admin/v1/orgs/{ORG}/directory/users/{account}/restore-access",
    "AtlassianRestAPI.post",
    answer["message"],
)

answer = admin.post(f"admin/v2/orgs/{ORG}/directories/{directory}/users/{account}/suspend", data={})
check(answer is None, "the v2 suspend answers 204", answer)
check(is_suspended(account), "the user is suspended", account)
report(f"POST /admin/v2/orgs/{ORG}/directories/{directory}/users/{account}/suspend", "AtlassianRestAPI.post", "204")

answer = admin.post(f"admin/v2/orgs/{ORG}/directories/{directory}/users/{account}/restore", data={})
check(answer is None, "the v2 restore answers 204", answer)
check(not is_suspended(account), "the user is no longer suspended", account)
report(f"POST /admin/v2/orgs/{ORG}/directories/{directory}/users/{account}/restore", "AtlassianRestAPI.post", "204")

# Events (v2 paths, as the client calls them): the calls above are in the org's audit log.
page = admin.get_events(ORG, limit=10)
check(is_list_page(page), "CloudAdmin.get_events answers a list page", page)
events = page["data"]
check(len(events) > 0, "the suspensions and the revocation above are events", page)
for event in events:
    check(event.get("type") == "events", "an event's type", event)
    for field in ("time", "action", "actor", "context", "container", "location"):
        check(field in event.get("attributes", {}), f"an event's {field}", event)
actions = [e["attributes"]["action"] for e in events]
check("membership.restored" in actions, "the restore above is listed", actions)
report(f"GET /admin/v2/orgs/{ORG}/events?limit=10", "CloudAdmin.get_events", f"{len(events)} events, newest {actions[0]}")

event = admin.get_event(ORG, events[0]["id"])
check(event.get("data", {}).get("id") == events[0]["id"], "the same event", event)
report(f"GET /admin/v2/orgs/{ORG}/events/{events[0]['id']}", "CloudAdmin.get_event", event["data"]["attributes"]["action"])

# Domains (v2 paths, as the client calls them).
page = admin.get_domains(ORG)
check(is_list_page(page), "CloudAdmin.get_domains answers a list page", page)
check(len(page["data"]) > 0, "the org claims a domain", page)
domain = page["data"][0]
check(domain.get("type") == "domains", "a domain's type", domain)
claim = domain.get("attributes", {}).get("claim", {})
check(claim.get("type") in ("dns", "http") and isinstance(claim.get("status"), str), "a domain's claim", domain)
report(f"GET /admin/v2/orgs/{ORG}/domains", "CloudAdmin.get_domains", f"{domain['attributes']['name']} ({claim['status']})")

got = admin.get_domain(ORG, domain["id"])
check(got.get("data", {}).get("id") == domain["id"], "the same domain", got)
report(f"GET /admin/v2/orgs/{ORG}/domains/{domain['id']}", "CloudAdmin.get_domain", "the same")

# Classification levels.
level = admin.create_classification_level(
    ORG, {"name": "Confidential", "description": "Only for the team", "guideline": "Do not share", "color": "RED"}
)
check(isinstance(level, dict) and level.get("status") == "draft", "a new level is a draft", level)
report(f"POST /admin/dlp/v1/orgs/{ORG}/classification-levels", "CloudAdmin.create_classification_level", f"{level['id']} (draft)")

page = admin.get_classification_levels(ORG)
levels = page.get("data") if isinstance(page, dict) else None
check(isinstance(levels, list) and level["id"] in [l.get("id") for l in levels], "the new level is listed", page)
report(f"GET /admin/dlp/v1/orgs/{ORG}/classification-levels", "CloudAdmin.get_classification_levels", f"{len(levels)} levels")

published = admin.publish_classification_levels(ORG, [level["id"]])
check(level["id"] in [l.get("id") for l in published.get("data", [])], "the level is published", published)
report(f"POST /admin/dlp/v1/orgs/{ORG}/classification-levels/publish", "CloudAdmin.publish_classification_levels", "published")

# Control policies (v2 paths, the client's default).
created = admin.create_control_policy(
    ORG,
    {"data": {"type": "policy", "attributes": {"type": "api-key-lifetime", "name": "Quarter", "status": "enabled",
                                                "rule": {"maxDays": 90}, "createdAt": "0001-01-01T00:00:00Z"}}},
)
policy = created.get("data", {})
check(policy.get("type") == "policy" and policy.get("attributes", {}).get("rule") == {"maxDays": 90}, "a created policy", created)
report(f"POST /admin/control/v2/orgs/{ORG}/policies", "CloudAdmin.create_control_policy", f"policy {policy['id']}")

page = admin.get_control_policies(ORG)
check(is_list_page(page), "CloudAdmin.get_control_policies answers a list page", page)
check(policy["id"] in [p.get("id") for p in page["data"]], "the created policy is listed", page)
check(isinstance(page.get("meta", {}).get("page_size"), int), "meta.page_size", page.get("meta"))
report(f"GET /admin/control/v2/orgs/{ORG}/policies", "CloudAdmin.get_control_policies", f"{len(page['data'])} policies")

got = admin.get_control_policy(ORG, policy["id"])
check(got.get("data", {}).get("id") == policy["id"], "the same policy", got)
report(f"GET /admin/control/v2/orgs/{ORG}/policies/{policy['id']}", "CloudAdmin.get_control_policy", "the same")

answer = admin.delete_control_policy(ORG, policy["id"])
check(answer is None, "a deletion answers no body", answer)
report(f"DELETE /admin/control/v2/orgs/{ORG}/policies/{policy['id']}", "CloudAdmin.delete_control_policy", "204")

print("all calls answered as the client expects", flush=True)
