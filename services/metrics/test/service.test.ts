import { describeServiceChassis } from '@runnerhub/testing';

// The console's sign-in form and its two static files are the only routes of its own without a
// token or session; every other /console route is a session route and answers 401 to a stranger.
describeServiceChassis('metrics', { publicRoutes: ['GET /console/login', 'POST /console/login', 'GET /console/static/console.css', 'GET /console/static/console.js'] });
