/**
 * A subscriber's name: in its resource names, its state item's key and the API's paths. A module of
 * its own so that the API, which validates names, does not bundle the URL guard and its address library.
 */
export const SUBSCRIBER_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,39}$/;
