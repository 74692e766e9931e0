// The whole public API of Opossum in one include.
#ifndef OPOSSUM_OPOSSUM_H_
#define OPOSSUM_OPOSSUM_H_

#include "opossum/event.h"
#include "opossum/options.h"
#include "opossum/query.h"
#include "opossum/status.h"
#include "opossum/store.h"

#endif  // OPOSSUM_OPOSSUM_H_
