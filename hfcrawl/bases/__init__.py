"""What spiders declare themselves on (as AllThePlaces spiders sit on their
storefinders): ``hub.HubSpider`` for any Hub API spider, ``listing.HubListingSpider``
for a collection listed by cursor or fetched by id."""
