"""Microsoft's Graph SDK for Python (msgraph-sdk, kiota) reads the Connector's service health with a token that
azure-identity gets from Identity: issues across pages, one issue with its posts, health overviews."""
import asyncio

import httpx
import pytest
from azure.identity.aio import ClientSecretCredential
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_authentication_azure.azure_identity_authentication_provider import AzureIdentityAuthenticationProvider
from msgraph import GraphServiceClient
from msgraph.generated.admin.service_announcement.health_overviews.health_overviews_request_builder import (
    HealthOverviewsRequestBuilder,
)
from msgraph.generated.admin.service_announcement.issues.issues_request_builder import IssuesRequestBuilder
from msgraph.generated.models.service_health_classification_type import ServiceHealthClassificationType
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph_core import GraphClientFactory

# The generated request builders warn about their own deprecated configuration classes.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def graph_client(identity, connector, credential):
    auth = AzureIdentityAuthenticationProvider(
        credential, scopes=[f"{connector.demo['resource']}/.default"], allowed_hosts=["127.0.0.1"])
    http = GraphClientFactory.create_with_default_middleware(client=httpx.AsyncClient(verify=identity.ca_file))
    adapter = GraphRequestAdapter(auth, client=http)
    # Without it the SDK silently calls graph.microsoft.com.
    adapter.base_url = f"{connector.base_url}/v1.0"
    return GraphServiceClient(request_adapter=adapter)


def credential(identity, connector):
    client = connector.demo["client"]
    return ClientSecretCredential(
        connector.demo["tenantId"], client["appId"], client["secret"], authority=identity.base_url,
        disable_instance_discovery=True, connection_verify=identity.ca_file)


def run(identity, connector, body):
    async def main():
        cred = credential(identity, connector)
        try:
            return await body(graph_client(identity, connector, cred))
        finally:
            await cred.close()
    return asyncio.run(main())


def test_lists_issues_across_pages_and_reads_one_with_its_posts(identity, connector):
    async def body(client):
        config = RequestConfiguration(
            query_parameters=IssuesRequestBuilder.IssuesRequestBuilderGetQueryParameters(orderby=["id"]))
        config.headers.add("Prefer", "odata.maxpagesize=4")
        page = await client.admin.service_announcement.issues.get(request_configuration=config)
        ids, pages = [], 0
        while page is not None:
            pages += 1
            ids += [issue.id for issue in page.value]
            if not page.odata_next_link:
                break
            # The page size is a preference of each request, as with Graph.
            next_config = RequestConfiguration()
            next_config.headers.add("Prefer", "odata.maxpagesize=4")
            page = await client.admin.service_announcement.issues.with_url(page.odata_next_link).get(
                request_configuration=next_config)
        one = await client.admin.service_announcement.issues.by_service_health_issue_id("EX1048213").get()
        return ids, pages, one

    ids, pages, one = run(identity, connector, body)
    # Other tests may publish issues too: at least the demo's, each once, in order, four a page.
    assert len(ids) >= connector.demo["healthIssues"] and len(set(ids)) == len(ids), ids
    assert ids == sorted(ids), ids
    assert pages == (len(ids) + 3) // 4
    assert one.service == "Exchange Online"
    assert one.classification == ServiceHealthClassificationType.Incident
    assert one.is_resolved is False
    assert len(one.posts) == 3
    assert one.posts[0].created_date_time is not None
    assert "Outlook on the web" in one.posts[0].description.content


def test_filters_active_issues_of_a_service(identity, connector):
    async def body(client):
        config = RequestConfiguration(
            query_parameters=IssuesRequestBuilder.IssuesRequestBuilderGetQueryParameters(
                filter="isResolved eq false and service eq 'Exchange Online'", select=["id", "title", "status"]))
        return await client.admin.service_announcement.issues.get(request_configuration=config)

    page = run(identity, connector, body)
    assert [issue.id for issue in page.value] == ["EX1048213"]
    assert page.value[0].title.startswith("Some users may be unable")


def test_reads_health_overviews_with_their_issues(identity, connector):
    async def body(client):
        overviews = await client.admin.service_announcement.health_overviews.get()
        config = RequestConfiguration(
            query_parameters=HealthOverviewsRequestBuilder.HealthOverviewsRequestBuilderGetQueryParameters(
                expand=["issues"]))
        expanded = await client.admin.service_announcement.health_overviews.get(request_configuration=config)
        teams = await client.admin.service_announcement.health_overviews.by_service_health_id("microsoftteams").get()
        return overviews, expanded, teams

    overviews, expanded, teams = run(identity, connector, body)
    names = {service.service for service in overviews.value}
    assert {"Exchange Online", "Microsoft Teams", "Planner"} <= names
    assert all(service.issues is None for service in overviews.value)
    exchange = next(service for service in expanded.value if service.id == "Exchange")
    assert {issue.id for issue in exchange.issues} == {"EX1048213", "EX1046990"}
    assert teams.service == "Microsoft Teams"


def test_an_unknown_issue_is_a_graph_error(identity, connector):
    from kiota_abstractions.api_error import APIError

    async def body(client):
        return await client.admin.service_announcement.issues.by_service_health_issue_id("NOPE").get()

    with pytest.raises(APIError) as raised:
        run(identity, connector, body)
    assert raised.value.response_status_code == 404
