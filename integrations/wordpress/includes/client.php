<?php
/**
 * Calls to the moderation service, server to server, with the site's key.
 *
 * wp_remote_request() (not the wp_safe_* variants) because the service usually runs on the same host or
 * network and on a port of its own: the "safe" functions refuse loopback, private addresses and ports other
 * than 80, 443 and 8080. The address is the one the site's admin typed on the settings page, nothing a
 * reader can choose.
 */

defined( 'ABSPATH' ) || exit;

/** Whether the service's address and the site's key are set. */
function moderation_configured(): bool {
	return '' !== trim( (string) get_option( 'moderation_service_url', '' ) )
		&& '' !== trim( (string) get_option( 'moderation_site_key', '' ) );
}

/**
 * One call to the service. Returns ['code' => int, 'body' => array|null, 'retry_after' => int] or a WP_Error
 * when the service could not be reached (down, refused, timed out) or is not configured.
 */
function moderation_request( string $method, string $path, ?array $body = null ) {
	if ( ! moderation_configured() ) {
		return new WP_Error( 'moderation_not_configured', __( 'The moderation service is not configured.', 'moderation' ) );
	}
	$url  = rtrim( trim( (string) get_option( 'moderation_service_url' ) ), '/' ) . $path;
	$args = array(
		'method'      => $method,
		'timeout'     => MODERATION_TIMEOUT,
		'redirection' => 0,
		'headers'     => array(
			'Authorization'   => 'Bearer ' . trim( (string) get_option( 'moderation_site_key' ) ),
			'Accept'          => 'application/json',
			'Accept-Language' => moderation_language(),
		),
	);
	if ( null !== $body ) {
		$args['headers']['Content-Type'] = 'application/json';
		$args['body']                    = wp_json_encode( $body );
	}
	$response = wp_remote_request( $url, $args );
	if ( is_wp_error( $response ) ) {
		moderation_note_error( $response->get_error_message() );
		return $response;
	}
	$code    = (int) wp_remote_retrieve_response_code( $response );
	$decoded = json_decode( wp_remote_retrieve_body( $response ), true );
	if ( 401 === $code || $code >= 500 ) {
		moderation_note_error( sprintf( 'HTTP %d: %s', $code, is_array( $decoded ) ? (string) ( $decoded['error'] ?? '' ) : '' ) );
	} else {
		delete_option( 'moderation_last_error' );
	}
	return array(
		'code'        => $code,
		'body'        => is_array( $decoded ) ? $decoded : null,
		'retry_after' => (int) wp_remote_retrieve_header( $response, 'retry-after' ),
	);
}

/** The language the service should answer errors in: the site's, when it is Russian, Kazakh or English. */
function moderation_language(): string {
	$locale = determine_locale();
	foreach ( array( 'ru', 'kk', 'en' ) as $language ) {
		if ( 0 === strpos( $locale, $language ) ) {
			return $language;
		}
	}
	return 'ru';
}

/** Remember the latest failure for the settings page (time and message). */
function moderation_note_error( string $message ): void {
	update_option( 'moderation_last_error', array( 'time' => time(), 'message' => substr( $message, 0, 300 ) ), false );
}
