/**
 * A greedy tour assignment. NOT a solver: it ignores time windows, loads and capacities, costs, breaks,
 * precedence rules, shipment-type rules, distance/duration matrices and every objective. It exists so the
 * example's long-running operation does real, checkable work.
 *
 * The rule: shipments are taken in order; each goes to the allowed vehicle whose route currently ends
 * nearest the shipment's first pickup (or first delivery, if it has no pickup); that vehicle drives there,
 * then to the first delivery. Distances are great-circle (haversine) metres; times assume
 * `geodesic_meters_per_second` (default 1 m/s, the API's default for geodesic distances) from
 * `model.global_start_time` (default the Unix epoch), plus each visit's `duration`.
 * Shipments with no location, no allowed vehicle, or `ignore` set are skipped.
 */
import { create } from "@bufbuild/protobuf";
import { durationFromMs, durationMs, timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import {
  AggregatedMetricsSchema,
  OptimizeToursResponse_MetricsSchema,
  OptimizeToursResponseSchema,
  ShipmentRoute_TransitionSchema,
  ShipmentRoute_VisitSchema,
  ShipmentRouteSchema,
  SkippedShipment_Reason_Code,
  SkippedShipmentSchema,
  type OptimizeToursRequest,
  type OptimizeToursResponse,
  type Shipment_VisitRequest,
  type ShipmentRoute,
  type Vehicle,
} from "./gen/google/maps/routeoptimization/v1/route_optimization_service_pb.js";
import type { LatLng } from "./gen/google/type/latlng_pb.js";

/** How many shipments are assigned between two looks at the cancellation signal. */
const CHECK_EVERY = 500;
const EARTH_RADIUS_M = 6_371_000;

export function haversineMeters(a: LatLng, b: LatLng): number {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLng = (b.longitude - a.longitude) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

function visitLocation(v: Shipment_VisitRequest | undefined): LatLng | undefined {
  if (!v) return undefined;
  if (v.arrivalLocation) return v.arrivalLocation;
  const wp = v.arrivalWaypoint?.locationType;
  return wp?.case === "location" ? wp.value.latLng : undefined;
}

function vehicleStart(v: Vehicle): LatLng | undefined {
  if (v.startLocation) return v.startLocation;
  const wp = v.startWaypoint?.locationType;
  return wp?.case === "location" ? wp.value.latLng : undefined;
}

interface RouteState {
  route: ShipmentRoute;
  /** Where the route currently ends; undefined before its first visit when the vehicle has no start. */
  at: LatLng | undefined;
  timeMs: number;
  distanceM: number;
  shipments: number;
}

/** Assigns the request's shipments to its vehicles; checks `signal` every few hundred shipments. */
export async function greedyAssign(request: OptimizeToursRequest, signal: AbortSignal): Promise<OptimizeToursResponse> {
  const model = request.model;
  const shipments = model?.shipments ?? [];
  const vehicles = model?.vehicles ?? [];
  const speed = request.geodesicMetersPerSecond ?? 1;
  const startMs = model?.globalStartTime ? timestampMs(model.globalStartTime) : 0;

  const states: RouteState[] = vehicles.map((vehicle, vehicleIndex) => ({
    route: create(ShipmentRouteSchema, { vehicleIndex, vehicleLabel: vehicle.label, vehicleStartTime: timestampFromMs(startMs) }),
    at: vehicleStart(vehicle),
    timeMs: startMs,
    distanceM: 0,
    shipments: 0,
  }));
  const response = create(OptimizeToursResponseSchema, { requestLabel: request.label });

  const drive = (s: RouteState, to: LatLng | undefined) => {
    const meters = s.at && to ? haversineMeters(s.at, to) : 0;
    const travelMs = Math.round((meters / speed) * 1000);
    s.route.transitions.push(
      create(ShipmentRoute_TransitionSchema, {
        travelDistanceMeters: meters,
        travelDuration: durationFromMs(travelMs),
        totalDuration: durationFromMs(travelMs),
        startTime: timestampFromMs(s.timeMs),
      }),
    );
    s.distanceM += meters;
    s.timeMs += travelMs;
    if (to) s.at = to;
  };

  for (let i = 0; i < shipments.length; i++) {
    if (i % CHECK_EVERY === 0) {
      signal.throwIfAborted();
      if (i > 0) await yieldToEventLoop(); // lets a CancelOperation reach the signal during long loops
    }
    const shipment = shipments[i]!;
    const first = visitLocation(shipment.pickups[0] ?? shipment.deliveries[0]);
    const allowed = shipment.allowedVehicleIndices.length > 0 ? new Set(shipment.allowedVehicleIndices) : undefined;
    const candidates = states.filter((s) => !allowed || allowed.has(s.route.vehicleIndex));
    if (shipment.ignore || !first || candidates.length === 0) {
      response.skippedShipments.push(
        create(SkippedShipmentSchema, {
          index: i,
          label: shipment.label,
          reasons: candidates.length === 0 && !shipment.ignore ? [{ code: SkippedShipment_Reason_Code.NO_VEHICLE }] : [],
        }),
      );
      continue;
    }
    let best = candidates[0]!;
    let bestM = best.at ? haversineMeters(best.at, first) : 0;
    for (const s of candidates) {
      const m = s.at ? haversineMeters(s.at, first) : 0;
      if (m < bestM) [best, bestM] = [s, m];
    }
    const stops: [Shipment_VisitRequest, boolean][] = [];
    if (shipment.pickups[0]) stops.push([shipment.pickups[0], true]);
    if (shipment.deliveries[0]) stops.push([shipment.deliveries[0], false]);
    for (const [visit, isPickup] of stops) {
      drive(best, visitLocation(visit));
      best.route.visits.push(
        create(ShipmentRoute_VisitSchema, {
          shipmentIndex: i,
          isPickup,
          visitRequestIndex: 0,
          startTime: timestampFromMs(best.timeMs),
          shipmentLabel: shipment.label,
          visitLabel: visit.label,
        }),
      );
      best.timeMs += visit.duration ? durationMs(visit.duration) : 0;
    }
    best.shipments++;
  }
  signal.throwIfAborted();

  let used = 0;
  let totalDistance = 0;
  for (const [index, s] of states.entries()) {
    if (s.shipments === 0) continue; // an unused vehicle's route stays empty, as in the real API
    used++;
    const end = vehicles[index]!.endLocation;
    drive(s, end);
    s.route.vehicleEndTime = timestampFromMs(s.timeMs);
    s.route.metrics = create(AggregatedMetricsSchema, {
      performedShipmentCount: s.shipments,
      travelDistanceMeters: s.distanceM,
      travelDuration: durationFromMs(s.timeMs - startMs),
      totalDuration: durationFromMs(s.timeMs - startMs),
    });
    totalDistance += s.distanceM;
  }
  response.routes = states.map((s) => s.route);
  response.metrics = create(OptimizeToursResponse_MetricsSchema, {
    usedVehicleCount: used,
    skippedMandatoryShipmentCount: response.skippedShipments.filter((k) => shipments[k.index]!.penaltyCost === undefined && !shipments[k.index]!.ignore).length,
    aggregatedRouteMetrics: create(AggregatedMetricsSchema, {
      performedShipmentCount: shipments.length - response.skippedShipments.length,
      travelDistanceMeters: totalDistance,
    }),
  });
  return response;
}
