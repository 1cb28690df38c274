<?php
/**
 * Plugin Name: Test site settings
 * Description: Every reader of the tests posts from 127.0.0.1: WordPress's own flood check would refuse them.
 * The plugin's retry comes after a second instead of a minute, so a test need not wait.
 */
add_filter( 'wp_is_comment_flood', '__return_false', 99 );
add_filter( 'moderation_retry_seconds', static fn() => 1 );
