<?php
/**
 * The service's webhooks: POST /wp-json/moderation/v1/webhook, signed with the secret on the settings page.
 *
 * X-Moderation-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">. A wrong signature or a time
 * more than MODERATION_SIGNATURE_TOLERANCE seconds away is refused (401), so a captured request cannot be
 * replayed later; a delivery id already applied, or an event older than the last applied for the comment
 * (its `sequence`), is acknowledged and changes nothing.
 */

defined( 'ABSPATH' ) || exit;

add_action( 'rest_api_init', 'moderation_register_webhook' );
function moderation_register_webhook() {
	register_rest_route(
		'moderation/v1',
		'/webhook',
		array(
			'methods'             => 'POST',
			'callback'            => 'moderation_receive_webhook',
			'permission_callback' => '__return_true', // the signature is the authentication
		)
	);
}

/** Whether a signature header is valid for this body and secret, and recent. */
function moderation_signature_valid( string $secret, string $header, string $body, ?int $now = null ): bool {
	$timestamp  = null;
	$signatures = array();
	foreach ( explode( ',', $header ) as $part ) {
		$pair = explode( '=', trim( $part ), 2 );
		if ( 2 !== count( $pair ) ) {
			continue;
		}
		if ( 't' === $pair[0] && ctype_digit( $pair[1] ) ) {
			$timestamp = (int) $pair[1];
		} elseif ( 'v1' === $pair[0] ) {
			$signatures[] = $pair[1];
		}
	}
	if ( '' === $secret || null === $timestamp || ! $signatures ) {
		return false;
	}
	if ( abs( ( $now ?? time() ) - $timestamp ) > MODERATION_SIGNATURE_TOLERANCE ) {
		return false;
	}
	$expected = hash_hmac( 'sha256', $timestamp . '.' . $body, $secret );
	foreach ( $signatures as $signature ) {
		if ( hash_equals( $expected, $signature ) ) {
			return true;
		}
	}
	return false;
}

function moderation_receive_webhook( WP_REST_Request $request ) {
	$secret = trim( (string) get_option( 'moderation_webhook_secret', '' ) );
	$body   = $request->get_body();
	if ( ! moderation_signature_valid( $secret, (string) $request->get_header( 'x_moderation_signature' ), $body ) ) {
		return new WP_Error( 'moderation_bad_signature', __( 'Invalid or expired webhook signature.', 'moderation' ), array( 'status' => 401 ) );
	}
	$event = json_decode( $body, true );
	if ( ! is_array( $event ) || ! isset( $event['comment']['id'], $event['comment']['status'] ) ) {
		return new WP_Error( 'moderation_bad_event', __( 'The event has no comment.', 'moderation' ), array( 'status' => 400 ) );
	}
	$delivery = (string) $request->get_header( 'x_moderation_delivery' );
	$seen     = 'moderation_delivery_' . md5( $delivery );
	if ( '' !== $delivery && get_transient( $seen ) ) {
		return rest_ensure_response( array( 'result' => 'duplicate' ) );
	}
	$comment_id = moderation_find_comment( (int) $event['comment']['id'] );
	if ( ! $comment_id ) {
		// Not a comment of this site (posted through another tool, or deleted here): nothing to do.
		return rest_ensure_response( array( 'result' => 'unknown comment' ) );
	}
	$sequence = (int) ( $event['sequence'] ?? 0 );
	if ( $sequence && $sequence <= (int) get_comment_meta( $comment_id, '_moderation_sequence', true ) ) {
		return rest_ensure_response( array( 'result' => 'outdated' ) );
	}
	moderation_apply( $comment_id, $event['comment'] );
	if ( $sequence ) {
		update_comment_meta( $comment_id, '_moderation_sequence', $sequence );
	}
	if ( '' !== $delivery ) {
		set_transient( $seen, 1, DAY_IN_SECONDS + HOUR_IN_SECONDS ); // the service retries for a day at most
	}
	return rest_ensure_response( array( 'result' => 'applied', 'comment' => $comment_id, 'status' => wp_get_comment_status( $comment_id ) ) );
}

/**
 * The WordPress comment the service knows by this id. The service may decide faster than the reader's own
 * request stores the id it was given, so look again for up to two seconds before giving up (the cron job's
 * status check catches anything later).
 */
function moderation_find_comment( int $service_id ): int {
	global $wpdb;
	$deadline = microtime( true ) + 2.0;
	do {
		$found = (int) $wpdb->get_var(
			$wpdb->prepare(
				"SELECT comment_id FROM {$wpdb->commentmeta} WHERE meta_key = '_moderation_id' AND meta_value = %s LIMIT 1",
				(string) $service_id
			)
		);
		if ( $found || microtime( true ) > $deadline ) {
			return $found;
		}
		usleep( 100000 );
	} while ( true );
}
